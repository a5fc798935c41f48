"""Writes on accounts: enrolling, renewing and resetting a second factor (django-otp), and the
platform admin's changes to a person's access (role, scope, flags, groups, permissions).

A person's second factor is one confirmed ``TOTPDevice`` (the authenticator app) plus one
``StaticDevice`` named "recovery" holding their unused one-time recovery codes.
"""

from collections.abc import Callable
from typing import Any

from django.contrib.auth.models import Group, Permission
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
    can_deactivate_user,
    can_delete_user,
    can_manage_user,
    can_reset_second_factor,
    can_turn_off_second_factor,
    can_use_second_factor,
)
from destreg.audit.changes import record_event
from destreg.audit.models import AuditAction
from destreg.audit.notify import notify
from destreg.lib.permissions import deny, require

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


# --- a person's access, as the Django admin changes it -----------------------------------

# What decides what a person may see and do; the audit row of a change lists each one that
# changed, old and new. The password hash is not among them, nor ever written to the log.
ACCESS_VALUES = ("role", "unit_role", "is_active", "is_staff", "is_superuser")
ACCESS_ROWS = ("school", "college", "employer", "province")
ACCESS_FIELDS = (*ACCESS_VALUES, *ACCESS_ROWS, "groups", "user_permissions")
# What a new account is compared with: its first audit row lists what it was given.
_NOTHING: dict[str, Any] = {
    **dict.fromkeys(("role", "unit_role"), ""),
    **dict.fromkeys(("is_active", "is_staff", "is_superuser"), False),
    **dict.fromkeys(ACCESS_ROWS),
    "groups": [],
    "user_permissions": [],
}


def user_access(user_id: int) -> dict[str, Any]:
    """The access of user ``user_id`` as the database holds it, in the audit row's terms:
    rows as ``{"id", "name"}``, groups by name, permissions as ``app_label.codename``."""
    user = User.objects.select_related(*ACCESS_ROWS).get(pk=user_id)
    access: dict[str, Any] = {name: getattr(user, name) for name in ACCESS_VALUES}
    for name in ACCESS_ROWS:
        row = getattr(user, name)
        access[name] = None if row is None else {"id": row.pk, "name": str(row)}
    access["groups"] = sorted(user.groups.values_list("name", flat=True))
    permissions = user.user_permissions.values_list("content_type__app_label", "codename")
    access["user_permissions"] = sorted(f"{app}.{codename}" for app, codename in permissions)
    return access


def _difference(before: dict[str, Any], after: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {
        name: {"old": before[name], "new": after[name]}
        for name in ACCESS_FIELDS
        if before[name] != after[name]
    }


def _granted(before: dict[str, Any], after: dict[str, Any]) -> set[str]:
    """The permissions (``app_label.codename``) a change gives that were not given before:
    new direct ones and those of new groups."""
    groups = set(after["groups"]) - set(before["groups"])
    through_groups = Permission.objects.filter(group__name__in=groups).values_list(
        "content_type__app_label", "codename"
    )
    return (set(after["user_permissions"]) - set(before["user_permissions"])) | {
        f"{app}.{codename}" for app, codename in through_groups
    }


@transaction.atomic
def user_save(
    *, user: User, actor: User, save: Callable[[], object], created: bool, comment: str = ""
) -> dict[str, dict[str, Any]]:
    """Save ``user`` with ``save`` (the admin's: the row, then its groups and permissions)
    and write ONE audit row (``CHANGE_USER_ACCESS``) listing every access field that
    changed, old and new, as stored before and after; none when nothing did. Returns those
    changes.

    ``user`` must be saved already unless ``created``; it is locked before ``save`` runs.
    Only a superuser may make or unmake a superuser, or change one; anybody else gives only
    permissions they hold themselves, directly or through a group (PermissionDenied,
    nothing saved): whoever may change users would otherwise give themselves every one."""
    if created:
        before = _NOTHING
    else:
        require(can_manage_user(actor, User.objects.select_for_update().get(pk=user.pk)))
        before = user_access(user.pk)
    held = actor.get_all_permissions()  # before the save: the actor may be the user
    save()
    after = user_access(user.pk)
    changes = _difference(before, after)
    if "is_superuser" in changes and not actor.is_superuser:
        require(deny(_("Only a superuser can grant or remove superuser status.")))
    if not actor.is_superuser and _granted(before, after) - held:
        require(deny(_("You can only give permissions you hold yourself.")))
    if changes:
        record_event(
            user,
            by=actor,
            action=AuditAction.CHANGE_USER_ACCESS,
            comment=comment,
            changes=changes,
        )
    return changes


@transaction.atomic
def user_deactivate(*, user: User, actor: User, comment: str = "") -> User:
    """Switch ``user``'s account off (they can no longer sign in; signed-in sessions end at
    their next request) and audit it. What an account with history gets instead of being
    deleted. An inactive account stays as it is, with no new audit row."""
    require(can_deactivate_user(actor, user))
    locked = User.objects.select_for_update().get(pk=user.pk)
    if locked.is_active:
        locked.is_active = False
        locked.save(update_fields=["is_active"])
        record_event(
            locked,
            by=actor,
            action=AuditAction.CHANGE_USER_ACCESS,
            comment=comment,
            changes={"is_active": {"old": True, "new": False}},
        )
    user.is_active = False
    return locked


@transaction.atomic
def user_password_record(*, user: User, actor: User) -> None:
    """Audit a password an administrator set (or password sign-in they switched off) for
    ``user`` through the admin's password form, which has saved it in the caller's
    transaction. Only that it changed is written, never the password or its hash."""
    locked = User.objects.select_for_update().get(pk=user.pk)
    state = "changed" if locked.has_usable_password() else "disabled"
    record_event(
        locked,
        by=actor,
        action=AuditAction.CHANGE_USER_PASSWORD,
        changes={"password": state},
    )


@transaction.atomic
def user_delete(*, user: User, actor: User) -> None:
    """Delete an account nothing points at (``can_delete_user``), leaving an audit row with
    its name and role. Raises PermissionDenied for an account with history."""
    locked = User.objects.select_for_update().get(pk=user.pk)
    require(can_delete_user(actor, locked))
    record_event(
        locked,
        by=actor,
        action=AuditAction.DELETE_USER,
        changes={"username": locked.username, "role": locked.role},
    )
    locked.delete()


# --- a group's permissions, as the Django admin changes them ----------------------------


def _group_permissions(group_id: int) -> list[str]:
    permissions = Permission.objects.filter(group=group_id).values_list(
        "content_type__app_label", "codename"
    )
    return sorted(f"{app}.{codename}" for app, codename in permissions)


@transaction.atomic
def group_save(*, group: Group, actor: User, save: Callable[[], object], created: bool) -> None:
    """Save ``group`` with ``save`` (the admin's: the row, then its permissions). A group's
    permissions are each member's, so a change of them is audited on every member's account
    (``CHANGE_USER_ACCESS``: the group, its permissions before and after), as a change of
    their own groups is. Superusers only (the group admin's rule, checked again here)."""
    if not actor.is_superuser:
        require(deny(_("Only a superuser can change groups.")))
    before: list[str] = []
    if not created:
        Group.objects.select_for_update().get(pk=group.pk)  # one change of a group at a time
        before = _group_permissions(group.pk)
    save()
    after = _group_permissions(group.pk)
    if before != after:
        _audit_members(group, actor, {"old": before, "new": after})


@transaction.atomic
def group_delete(*, group: Group, actor: User) -> None:
    """Delete ``group``; its members lose its permissions, audited on each member's account."""
    if not actor.is_superuser:
        require(deny(_("Only a superuser can change groups.")))
    group = Group.objects.select_for_update().get(pk=group.pk)
    permissions = _group_permissions(group.pk)
    _audit_members(group, actor, {"old": permissions, "new": [], "deleted": True})
    group.delete()


def _audit_members(group: Group, actor: User, permissions: dict[str, Any]) -> None:
    for member in User.objects.filter(groups=group).order_by("pk"):
        record_event(
            member,
            by=actor,
            action=AuditAction.CHANGE_USER_ACCESS,
            changes={"group_permissions": {"group": group.name, **permissions}},
        )
