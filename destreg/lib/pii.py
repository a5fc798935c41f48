"""Protection for 身份证号 (resident ID numbers).

The number is stored twice, never in clear: a Fernet ciphertext (to show it to
its owner and print it on the agreement) and an HMAC-SHA256 digest under a
separate key (for exact lookup and uniqueness without decrypting anything).
"""

import base64
import hashlib
import hmac
import re
from functools import cache

from cryptography.fernet import Fernet
from django.conf import settings
from django.utils.safestring import SafeString, mark_safe
from django.views.debug import ExceptionReporter, SafeExceptionReporterFilter
from stdnum.cn import ric

# Anything that looks like an 18-character resident ID number: 17 digits and a check character,
# wherever it stands. Not \b: a name written next to it (王喆310115200306060030) or an
# underscore is a word character too, so the number would slip through. Only digits around it
# make it part of something longer (a 19-digit order number is left alone), except the hex
# digits that end an escaped character just before it: a name percent-encoded in a URL
# (%E5%96%86310115…), encoded once more in a login page's ?next= (%2586), written as \u5586
# in JSON (or %5Cu5586 in a URL) or as \x86 in the repr of bytes.
_ESCAPED_CHARACTER_BEFORE = (
    r"%[0-9A-Fa-f]{2}",
    r"%25[0-9A-Fa-f]{2}",
    r"\\u[0-9A-Fa-f]{4}",
    r"%5[Cc]u[0-9A-Fa-f]{4}",
    r"\\x[0-9A-Fa-f]{2}",
)
ID_NUMBER_PATTERN = re.compile(
    r"(?:(?<!\d)"
    + "".join(f"|(?<={escape})" for escape in _ESCAPED_CHARACTER_BEFORE)
    + r")\d{17}[\dXx](?!\d)"
)


def _derive(purpose: str) -> bytes:
    return hashlib.sha256(f"destreg:{purpose}:{settings.SECRET_KEY}".encode()).digest()


@cache
def _fernet() -> Fernet:
    key = settings.PII_ENCRYPTION_KEY or base64.urlsafe_b64encode(_derive("pii-encryption"))
    return Fernet(key)


@cache
def _digest_key() -> bytes:
    return settings.PII_DIGEST_KEY.encode() if settings.PII_DIGEST_KEY else _derive("pii-digest")


def normalize_id_number(value: str) -> str:
    """Canonical form: no spaces, upper-case check character."""
    return ric.compact(value).upper()


def encrypt_id_number(value: str) -> str:
    return _fernet().encrypt(normalize_id_number(value).encode()).decode()


def decrypt_id_number(token: str) -> str:
    return _fernet().decrypt(token.encode()).decode()


def encrypt_secret(value: str) -> str:
    """Another secret kept at rest under the same key, e.g. a school's OIDC client secret."""
    return _fernet().encrypt(value.encode()).decode()


def decrypt_secret(token: str) -> str:
    return _fernet().decrypt(token.encode()).decode()


def id_number_digest(value: str) -> str:
    message = normalize_id_number(value).encode()
    return hmac.new(_digest_key(), message, hashlib.sha256).hexdigest()


def mask_id_number(value: str) -> str:
    """110101200301010012 -> 110101********0012."""
    if len(value) < 10:
        return "*" * len(value)
    return value[:6] + "*" * (len(value) - 10) + value[-4:]


def mask_mobile(value: str) -> str:
    """13812345678 -> 138****5678; empty stays empty."""
    if len(value) < 7:
        return "*" * len(value)
    return value[:3] + "*" * (len(value) - 7) + value[-4:]


def mask_email(value: str) -> str:
    """pengye@example.com -> p*****@example.com; empty stays empty."""
    local, at, domain = value.partition("@")
    if not at:
        return "*" * len(value)
    return local[:1] + "*" * max(len(local) - 1, 1) + "@" + domain


class PiiSafeExceptionReporterFilter(SafeExceptionReporterFilter):
    """Hide ID numbers in tracebacks and error reports, wherever they appear."""

    hidden_settings = re.compile(
        "API|TOKEN|KEY|SECRET|PASS|SIGNATURE|HTTP_COOKIE|PII", flags=re.IGNORECASE
    )

    def get_post_parameters(self, request):
        params = super().get_post_parameters(request)
        if request is None:
            return params
        cleaned = params.copy()
        for name in list(cleaned.keys()):
            if "id_number" in name or "password" in name:
                cleaned[name] = self.cleansed_substitute
        return cleaned

    def get_traceback_frame_variables(self, request, tb_frame):
        cleansed = []
        for name, value in super().get_traceback_frame_variables(request, tb_frame):
            if "id_number" in name:
                value = self.cleansed_substitute
            elif isinstance(value, str):
                value = ID_NUMBER_PATTERN.sub(self.cleansed_substitute, value)
            cleansed.append((name, value))
        return cleansed


def _mask_all(text: str) -> str:
    return ID_NUMBER_PATTERN.sub(lambda m: mask_id_number(m.group()), text)


class PiiSafeExceptionReporter(ExceptionReporter):
    """Mask ID numbers anywhere in a debug page or error e-mail (values, messages, source)."""

    # Replacing digits with asterisks cannot make escaped HTML unsafe.
    def get_traceback_html(self) -> SafeString:
        return mark_safe(_mask_all(super().get_traceback_html()))  # noqa: S308

    def get_traceback_text(self) -> SafeString:
        return mark_safe(_mask_all(super().get_traceback_text()))  # noqa: S308


class PiiLogFilter:
    """Logging filter that masks anything shaped like an ID number."""

    def filter(self, record) -> bool:
        message = record.getMessage()
        if ID_NUMBER_PATTERN.search(message):
            record.msg = _mask_all(message)
            record.args = None
        return True
