"""Validators for Chinese identifiers, built on python-stdnum."""

import re

from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _
from stdnum.cn import ric, uscc
from stdnum.exceptions import (
    InvalidChecksum,
    InvalidComponent,
    InvalidFormat,
    InvalidLength,
)
from stdnum.exceptions import (
    ValidationError as StdnumError,
)

MOBILE = re.compile(r"^1[3-9]\d{9}$")


def validate_id_number(value: str) -> str:
    """Return the compact ID number or raise a translated ValidationError."""
    try:
        return ric.validate(value).upper()
    except InvalidLength:
        raise ValidationError(_("An ID number has 18 characters."), code="length") from None
    except InvalidFormat:
        raise ValidationError(
            _("An ID number is 17 digits followed by a digit or X."), code="format"
        ) from None
    except InvalidChecksum:
        raise ValidationError(
            _("This ID number's check digit is wrong; please check every digit."),
            code="checksum",
        ) from None
    except InvalidComponent:
        raise ValidationError(
            _("This ID number contains an impossible birth date or region code."),
            code="component",
        ) from None
    except StdnumError:
        raise ValidationError(_("This is not a valid ID number."), code="invalid") from None


def validate_uscc(value: str) -> str:
    """Return the compact unified social credit code or raise a ValidationError."""
    try:
        return uscc.validate(value).upper()
    except InvalidChecksum:
        raise ValidationError(
            _("This unified social credit code's check character is wrong."), code="checksum"
        ) from None
    except StdnumError:
        raise ValidationError(
            _("A unified social credit code has 18 digits and capital letters."), code="invalid"
        ) from None


def validate_mobile(value: str) -> None:
    if not MOBILE.match(value):
        raise ValidationError(_("Enter an 11-digit mainland mobile number."), code="mobile")


def validate_single_line(value: str) -> None:
    """No line breaks or other control characters (a name shown in e-mail subjects)."""
    if any(ord(char) < 32 or ord(char) == 127 for char in value):
        raise ValidationError(_("Use one line, without control characters."))
