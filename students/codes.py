"""One-time codes for the first-login check: making, hashing, checking and sending them.

Rate limits, counted from the stored codes (so they hold across processes): per account,
one send a minute and five an hour; per record, across all accounts, ten an hour (the phone
and inbox of a graduate whose name and ID number someone knows get at most that many); per
client address, twenty an hour, five of them for one record.
"""

import logging
import secrets
from datetime import timedelta

from django.core.mail import send_mail
from django.utils.crypto import constant_time_compare, salted_hmac
from django.utils.translation import gettext as _

from destreg.lib.sms import send_sms

logger = logging.getLogger(__name__)

SENT_CODE_LIFETIME = timedelta(minutes=10)
ACTIVATION_CODE_LIFETIME = timedelta(days=7)
SEND_INTERVAL = timedelta(seconds=60)
SENDS_PER_ACCOUNT_PER_HOUR = 5
SENDS_PER_RECORD_PER_HOUR = 10
SENDS_PER_RECORD_PER_CLIENT_PER_HOUR = 5

# Activation codes are read aloud or copied from paper: no 0/O, 1/I/L.
ACTIVATION_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"
ACTIVATION_LENGTH = 12


def new_sent_code() -> str:
    return f"{secrets.randbelow(10**6):06d}"


def new_activation_code() -> str:
    raw = "".join(secrets.choice(ACTIVATION_ALPHABET) for _position in range(ACTIVATION_LENGTH))
    return "-".join(raw[i : i + 4] for i in range(0, ACTIVATION_LENGTH, 4))


def normalize(code: str) -> str:
    """What the graduate typed, without spaces or dashes, upper-case."""
    return "".join(ch for ch in code.upper() if ch.isalnum())


def is_sent_code_shape(code: str) -> bool:
    return len(code) == 6 and code.isdigit()


def code_hash(code: str) -> str:
    return salted_hmac("students.RegistryCode", normalize(code), algorithm="sha256").hexdigest()


def code_matches(code: str, stored_hash: str) -> bool:
    return constant_time_compare(code_hash(code), stored_hash)


def deliver(*, channel: str, to: str, code: str) -> None:
    """Send a code now (called after commit). The code never goes through the task queue,
    whose table would keep it in clear; a failure is logged and the graduate asks again."""
    minutes = int(SENT_CODE_LIFETIME.total_seconds() // 60)
    text = _(
        "Your graduate registry confirmation code is %(code)s, valid for %(minutes)d minutes. "
        "Do not share it with anyone."
    ) % {"code": code, "minutes": minutes}
    try:
        if channel == "sms":
            send_sms(to, text)
        else:
            send_mail(
                subject=_("Your registry confirmation code"),
                message=text,
                from_email=None,
                recipient_list=[to],
            )
    except Exception:
        logger.exception("Could not send a registry confirmation code by %s", channel)


def send_notice_sms(to: str, text: str) -> None:
    """Send a notice (no secret in it) by text message now; called after commit. A failure
    is logged: the notice also goes by e-mail when the school has one."""
    try:
        send_sms(to, text)
    except Exception:
        logger.exception("Could not send a registry notice by text message")
