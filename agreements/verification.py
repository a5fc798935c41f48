"""Is an uploaded PDF the genuine, current document of an agreement?"""

import hashlib
from enum import Enum

from django.core.cache import cache
from django.utils.translation import gettext_lazy as _

from agreements.models import Agreement, Registration
from agreements.signing import check_pdf_signature


class UploadVerdict(Enum):
    CURRENT = "current", _("Genuine: this is the current document of this agreement.")
    OTHER = (
        "other",
        _("Signed by the platform and unchanged, but it is not this agreement's current document."),
    )
    TAMPERED = (
        "tampered",
        _("Not genuine: the file was changed after signing, or the platform did not sign it."),
    )

    def __init__(self, code, message):
        self.code = code
        self.message = message


def compare_upload(agreement: Agreement | Registration, data: bytes) -> UploadVerdict:
    if agreement.pdf_sha256 and hashlib.sha256(data).hexdigest() == agreement.pdf_sha256:
        return UploadVerdict.CURRENT
    signature = check_pdf_signature(data)
    return UploadVerdict.OTHER if signature.trusted else UploadVerdict.TAMPERED


# Checking a PDF validates its signature, which costs real CPU, and the page is public.
UPLOAD_CHECKS_PER_MINUTE = 10
UPLOAD_CHECK_WINDOW_SECONDS = 60


def upload_check_allowed(client: str) -> bool:
    """Count one file check by ``client`` (an address); False once it has made
    ``UPLOAD_CHECKS_PER_MINUTE`` in the current window. The window starts at the client's
    first check and is shared by every process through the cache."""
    key = f"verify-upload-checks:{client}"
    cache.add(key, 0, UPLOAD_CHECK_WINDOW_SECONDS)
    try:
        count = cache.incr(key)
    except ValueError:  # the window ended between add and incr: this is its first check
        cache.add(key, 1, UPLOAD_CHECK_WINDOW_SECONDS)
        return True
    return count is None or count <= UPLOAD_CHECKS_PER_MINUTE  # None: the cache is down
