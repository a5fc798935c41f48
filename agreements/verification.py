"""Is an uploaded PDF the genuine, current document of an agreement?"""

import hashlib
from enum import Enum

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
