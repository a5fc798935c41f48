"""Writes on accounts: enrolling, renewing and resetting a second factor (django-otp).

A person's second factor is one confirmed ``TOTPDevice`` (the authenticator app) plus one
``StaticDevice`` named "recovery" holding their unused one-time recovery codes.
"""

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from destreg.accounts.models import User
from destreg.accounts.permissions import (
    can_reset_second_factor,
    can_turn_off_second_factor,
    can_use_second_factor,
)
from destreg.audit.changes import record_event
from destreg.audit.models import AuditAction
from destreg.audit.notify import notify
from destreg.lib.permissions import require

RECOVERY_CODE_COUNT = 10
RECOVERY_DEVICE_NAME = "recovery"
TOTP_DEVICE_NAME = "authenticator"


def pending_totp_device(*, user: User, pk: int | None = None) -> TOTPDevice:
    """The unconfirmed device one session is enrolling: ``pk`` (which that session
    remembers) while it is still unconfirmed, so the QR code someone scanned stays good on
    every reload; otherwise a new device with a new secret.

    Each session gets its own device: a secret seen in a session (somebody else's, who
    also knows the password) is worthless once another session confirms its device."""
    require(can_use_second_factor(user))
    device = None
    if pk is not None:
        device = TOTPDevice.objects.filter(pk=pk, user=user, confirmed=False).first()
    return device or TOTPDevice.objects.create(user=user, name=TOTP_DEVICE_NAME, confirmed=False)


def _new_recovery_codes(user: User) -> list[str]:
    """Ten new codes on the user's recovery device. The device itself is kept, so a session
    verified with a recovery code stays verified when its owner makes new ones."""
    device = StaticDevice.objects.filter(user=user, confirmed=True).order_by("pk").first()
    if device is None:
        device = StaticDevice.objects.create(user=user, name=RECOVERY_DEVICE_NAME, confirmed=True)
    StaticDevice.objects.filter(user=user).exclude(pk=device.pk).delete()
    StaticToken.objects.filter(device=device).delete()
    codes = [StaticToken.random_token() for _n in range(RECOVERY_CODE_COUNT)]
    StaticToken.objects.bulk_create(StaticToken(device=device, token=code) for code in codes)
    return codes


@transaction.atomic
def second_factor_enrol(*, device: TOTPDevice) -> list[str]:
    """Confirm ``device`` (its code was just verified) as the user's only authenticator and
    return their new recovery codes, which are stored nowhere else in clear: show them once.

    Any earlier authenticator, the devices other sessions were enrolling and the recovery
    codes of the user are dropped. The user is told in the app and by e-mail: whoever knows
    the password and enrols first holds the account, so the owner must hear of it.

    Raises PermissionDenied if ``device`` is gone or confirmed meanwhile (another session
    enrolled first, or an admin reset the second factor)."""
    user = User.objects.select_for_update().get(pk=device.user_id)
    require(can_use_second_factor(user))
    locked = (
        TOTPDevice.objects.select_for_update()
        .filter(pk=device.pk, user=user, confirmed=False)
        .first()
    )
    if locked is None:
        raise PermissionDenied(
            _("This set-up is no longer valid: the second factor was set up or reset meanwhile.")
        )
    TOTPDevice.objects.filter(user=user).exclude(pk=locked.pk).delete()
    locked.confirmed = True
    locked.save(update_fields=["confirmed"])
    codes = _new_recovery_codes(user)
    record_event(user, by=user, action=AuditAction.ENROL_SECOND_FACTOR)
    when = date_format(timezone.localtime(), "Y-m-d H:i")
    notify(
        [user],
        gettext_lazy(
            "A second factor was set up for your account at %(time)s. If it wasn't you, "
            "contact the platform administrator."
        ),
        reverse("account_security"),
        {"time": when},
    )
    return codes


@transaction.atomic
def recovery_codes_renew(*, user: User) -> list[str]:
    """Replace the user's recovery codes with ten new ones (the old ones stop working)."""
    if not TOTPDevice.objects.filter(user=user, confirmed=True).exists():
        raise PermissionDenied(_("Set up an authenticator app first."))
    codes = _new_recovery_codes(user)
    record_event(user, by=user, action=AuditAction.RENEW_RECOVERY_CODES)
    return codes


def _delete_devices(user: User) -> int:
    deleted, _rows = TOTPDevice.objects.filter(user=user).delete()
    static, _rows = StaticDevice.objects.filter(user=user).delete()
    return deleted + static


@transaction.atomic
def second_factor_turn_off(*, user: User) -> None:
    """Someone who opted in turns the second factor off again (their role allows it)."""
    require(can_turn_off_second_factor(user))
    User.objects.select_for_update().get(pk=user.pk)
    _delete_devices(user)
    record_event(user, by=user, action=AuditAction.TURN_OFF_SECOND_FACTOR)


@transaction.atomic
def second_factor_reset(*, user: User, actor: User, comment: str = "") -> None:
    """A platform admin deletes ``user``'s authenticator and recovery codes (a lost phone).

    Their sessions lose the verification at once (the device is gone), their next sign-in
    enrols again, and they are told in the app and by e-mail."""
    require(can_reset_second_factor(actor, user))
    User.objects.select_for_update().get(pk=user.pk)
    _delete_devices(user)
    record_event(user, by=actor, action=AuditAction.RESET_SECOND_FACTOR, comment=comment)
    notify(
        [user],
        gettext_lazy(
            "An administrator reset your second factor: set it up again when you next sign in."
        ),
        reverse("account_security"),
    )
