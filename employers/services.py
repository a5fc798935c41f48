"""Writes for employers: registration, evidence and verification."""

import secrets
from collections.abc import Iterable
from datetime import timedelta
from typing import cast

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from destreg.accounts.models import Role, UnitRole, User
from destreg.audit.changes import record_event
from destreg.audit.models import AuditAction
from destreg.audit.notify import notify
from destreg.audit.tasks import email_after_commit
from destreg.lib.permissions import require
from employers.api_tokens import end_api_tokens_of
from employers.models import ColleagueInvitation, Employer, EmployerVerification
from employers.permissions import (
    can_change_colleague,
    can_change_unit_details,
    can_manage_colleagues,
    can_upload_employer_evidence,
    can_verify_employer,
    verification_scope,
)

EVIDENCE_FIELDS = ("business_licence", "authorisation_letter")


@transaction.atomic
def employer_register(*, username: str, password: str, unit: dict) -> User:
    """A unit and its first user; it waits for verification before it can invite.

    ``unit`` holds the Employer fields, the evidence files included (already cleaned by
    DocumentField, so only the rebuilt documents are stored).
    """
    employer = Employer.objects.create(**unit)
    user = User.objects.create_user(
        username=username,
        password=password,
        email=unit["contact_email"],
        role=Role.EMPLOYER,
        employer=employer,
        unit_role=UnitRole.ADMIN,  # the first user administers the unit
        display_name=unit["name"],
    )
    _record_evidence(employer, by=user, action=AuditAction.REGISTER, fields=EVIDENCE_FIELDS)
    return user


def _record_evidence(
    employer: Employer, *, by: User, action: AuditAction, fields: Iterable[str]
) -> None:
    """Audit ``action`` on the unit with the stored names of its evidence ``fields``."""
    record_event(
        employer,
        by=by,
        action=action,
        changes={name: getattr(employer, name).name for name in fields},
    )


@transaction.atomic
def employer_upload_evidence(
    *,
    employer: Employer,
    user: User,
    business_licence: UploadedFile | None = None,
    authorisation_letter: UploadedFile | None = None,
) -> Employer:
    """Add or replace the unit's documents. Past verifications keep naming what they saw."""
    employer = Employer.objects.select_for_update().get(pk=employer.pk)
    require(can_upload_employer_evidence(user, employer))
    files = {"business_licence": business_licence, "authorisation_letter": authorisation_letter}
    changed = [name for name, upload in files.items() if upload is not None]
    for name in changed:
        setattr(employer, name, files[name])
    if changed:
        employer.save(update_fields=changed)
        _record_evidence(employer, by=user, action=AuditAction.UPLOAD_EVIDENCE, fields=changed)
    return employer


@transaction.atomic
def employer_verify(*, employer: Employer, by: User, note: str = "") -> EmployerVerification:
    """Verify a unit for the reviewer's school (a platform admin: for every school).

    Records who, when, the scope and the evidence files reviewed; audits it and tells the unit.
    Raises PermissionDenied when ``by`` may not (no evidence yet, already covered, wrong role).
    """
    employer = Employer.objects.select_for_update().get(pk=employer.pk)
    require(can_verify_employer(by, employer))
    scope = verification_scope(by)
    now = timezone.now()
    verification = EmployerVerification.objects.create(
        employer=employer,
        school_id=scope,
        verified_by=by,
        verified_at=now,
        business_licence=employer.business_licence.name,
        authorisation_letter=employer.authorisation_letter.name,
        note=note,
    )
    if not employer.is_verified:
        employer.verified_at, employer.verified_by = now, by
        try:  # the constraint: another account of the code was verified meanwhile
            employer.save(update_fields=["verified_at", "verified_by"])
        except IntegrityError:
            raise PermissionDenied(
                _("Another account of this credit code is already verified.")
            ) from None
    record_event(
        employer,
        by=by,
        action=AuditAction.VERIFY,
        comment=note,
        changes={
            "verification": verification.pk,
            "scope": "platform" if scope is None else f"school:{scope}",
            "business_licence": verification.business_licence.name,
            "authorisation_letter": verification.authorisation_letter.name,
        },
    )
    if scope is None:
        message = gettext_lazy(
            "Your unit is verified by the platform; you can invite graduates of any school."
        )
    else:
        message = gettext_lazy("Your unit is verified by %(school)s; you can invite its graduates.")
    params = {"school": verification.school} if scope is not None else {}
    notify(employer.users.all(), message, reverse("employers:home"), params)
    return verification


# --- colleagues -----------------------------------------------------------------------------


INVITATIONS_PER_HOUR = 10


def _end_invitations_of(user: User) -> None:
    """A colleague removed or no longer an administrator: the links they sent end, and so
    do the API keys they made."""
    ColleagueInvitation.objects.filter(invited_by=user, used_at=None).update(
        expires_at=timezone.now()
    )
    end_api_tokens_of(user)


@transaction.atomic
def colleague_invitation_revoke(*, by: User, invitation: ColleagueInvitation) -> None:
    """An administrator takes back a link not used yet (e.g. sent to a mistyped address)."""
    require(can_manage_colleagues(by))
    _lock_unit(by)
    if invitation.employer_id != by.employer_id:
        raise PermissionDenied(_("Not found."))
    ColleagueInvitation.objects.filter(pk=invitation.pk, used_at=None).update(
        expires_at=timezone.now()
    )
    record_event(
        invitation.employer,
        by=by,
        action=AuditAction.REVOKE_COLLEAGUE_INVITATION,
        comment=invitation.email,
    )


def _lock_unit(user: User) -> Employer:
    """The user's unit (the permission checked there is one), locked: one colleague change
    at a time, so two administrators cannot demote each other at once."""
    return Employer.objects.select_for_update().get(pk=cast(int, user.employer_id))


def _other_active_admins(colleague: User) -> bool:
    return (
        User.objects.filter(
            employer_id=cast(int, colleague.employer_id), unit_role=UnitRole.ADMIN, is_active=True
        )
        .exclude(pk=colleague.pk)
        .exists()
    )


@transaction.atomic
def colleague_invite(*, by: User, email: str, unit_role: str) -> str:
    """E-mail a one-time link (``ColleagueInvitation.DAYS`` days) to join the unit with
    ``unit_role``; returns the link's token (stored only as a digest)."""
    require(can_manage_colleagues(by))
    employer = _lock_unit(by)
    recent = ColleagueInvitation.objects.filter(
        employer=employer, created_at__gt=timezone.now() - timedelta(hours=1)
    )
    if recent.count() >= INVITATIONS_PER_HOUR:  # the platform's mail is not the unit's
        raise ValidationError(
            _("At most %(n)d colleague invitations an hour; try again later.")
            % {"n": INVITATIONS_PER_HOUR}
        )
    token = secrets.token_urlsafe(32)
    invitation = ColleagueInvitation.objects.create(
        employer=employer,
        email=email,
        unit_role=unit_role,
        token_digest=ColleagueInvitation.digest(token),
        invited_by=by,
        expires_at=timezone.now() + timedelta(days=ColleagueInvitation.DAYS),
    )
    record_event(
        employer,
        by=by,
        action=AuditAction.INVITE_COLLEAGUE,
        comment=email,
        changes={"email": email, "unit_role": unit_role},
    )
    url = settings.SITE_URL + reverse("employers:join", args=[token])
    email_after_commit(
        _("Join %(unit)s on the graduate employment platform") % {"unit": invitation.employer},
        _(
            "%(name)s invites you to handle graduate signing for %(unit)s.\n\n"
            "Open this link to create your account (valid for %(days)d days, once):\n%(url)s"
        )
        % {
            "name": by.display_name or by.username,
            "unit": invitation.employer,
            "days": ColleagueInvitation.DAYS,
            "url": url,
        },
        [email],
    )
    return token


def colleague_invitation(token: str) -> ColleagueInvitation | None:
    """The live invitation behind ``token``, or None."""
    invitation = (
        ColleagueInvitation.objects.select_related("employer")
        .filter(token_digest=ColleagueInvitation.digest(token))
        .first()
    )
    return invitation if invitation is not None and invitation.usable else None


@transaction.atomic
def colleague_join(*, token: str, username: str, password: str, display_name: str) -> User:
    """The invited colleague creates their account; the link is spent."""
    invitation = (
        ColleagueInvitation.objects.select_for_update()
        .filter(token_digest=ColleagueInvitation.digest(token))
        .first()
    )
    if invitation is None or not invitation.usable:
        raise ValidationError(_("This link has expired or was already used."))
    user = User.objects.create_user(
        username=username,
        password=password,
        email=invitation.email,
        role=Role.EMPLOYER,
        employer_id=invitation.employer_id,
        unit_role=invitation.unit_role,
        display_name=display_name,
    )
    invitation.used_at, invitation.joined = timezone.now(), user
    invitation.save(update_fields=["used_at", "joined"])
    record_event(
        invitation.employer,
        by=user,
        action=AuditAction.JOIN_COLLEAGUE,
        comment=display_name,
        changes={"user": user.pk, "unit_role": invitation.unit_role},
    )
    return user


@transaction.atomic
def colleague_set_role(*, by: User, colleague: User, unit_role: str) -> User:
    """Make a colleague an administrator or HR; the unit keeps at least one administrator."""
    require(can_change_colleague(by, colleague))
    employer = _lock_unit(by)
    colleague = User.objects.get(pk=colleague.pk)
    if unit_role != UnitRole.ADMIN and not _other_active_admins(colleague):
        raise ValidationError(_("The unit needs at least one administrator."))
    colleague.unit_role = unit_role
    colleague.save(update_fields=["unit_role"])
    if unit_role != UnitRole.ADMIN:
        _end_invitations_of(colleague)
    record_event(
        employer,
        by=by,
        action=AuditAction.CHANGE_COLLEAGUE_ROLE,
        comment=colleague.display_name or colleague.username,
        changes={"user": colleague.pk, "unit_role": unit_role},
    )
    return colleague


@transaction.atomic
def colleague_remove(*, by: User, colleague: User) -> User:
    """Remove a colleague: the account can no longer sign in; what they did stays theirs in
    every history. The unit keeps at least one administrator."""
    require(can_change_colleague(by, colleague))
    employer = _lock_unit(by)
    colleague = User.objects.get(pk=colleague.pk)
    if colleague.unit_role == UnitRole.ADMIN and not _other_active_admins(colleague):
        raise ValidationError(_("The unit needs at least one administrator."))
    colleague.is_active = False
    colleague.save(update_fields=["is_active"])
    _end_invitations_of(colleague)
    record_event(
        employer,
        by=by,
        action=AuditAction.REMOVE_COLLEAGUE,
        comment=colleague.display_name or colleague.username,
        changes={"user": colleague.pk},
    )
    return colleague


# --- the unit's details ----------------------------------------------------------------------

# Changing one of these makes the unit another unit in the eyes of those who verified it.
VERIFIED_FIELDS = ("name", "uscc")


@transaction.atomic
def employer_update_details(*, by: User, values: dict) -> Employer:
    """A unit administrator changes the unit's details. A new name or credit code ends every
    verification in force (kept, with the reason): schools verify the unit again."""
    require(can_change_unit_details(by))
    employer = _lock_unit(by)
    changed = {
        name: (str(getattr(employer, name)), str(value))
        for name, value in values.items()
        if getattr(employer, name) != value
    }
    if not changed:
        return employer
    for name, value in values.items():
        setattr(employer, name, value)
    reverify = any(name in changed for name in VERIFIED_FIELDS)
    if "uscc" in changed:  # the documents named the old code: new ones are needed
        employer.business_licence, employer.authorisation_letter = "", ""  # type: ignore[assignment]
    if reverify:
        employer.verified_at, employer.verified_by = None, None
        employer.verifications.current().update(
            ended_at=timezone.now(), ended_reason=_("The unit's name or credit code changed.")
        )
    documents = list(EVIDENCE_FIELDS) if "uscc" in changed else []
    employer.save(
        update_fields=[
            *changed,
            *documents,
            *(["verified_at", "verified_by"] if reverify else []),
        ]
    )
    record_event(
        employer,
        by=by,
        action=AuditAction.CHANGE_UNIT_DETAILS,
        changes={name: {"from": old, "to": new} for name, (old, new) in changed.items()},
        comment=_("Sent back to verification.") if reverify else "",
    )
    return employer
