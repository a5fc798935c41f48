"""Writes for employers: registration, evidence and verification."""

from collections.abc import Iterable

from django.core.exceptions import PermissionDenied
from django.core.files.uploadedfile import UploadedFile
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from destreg.accounts.models import Role, User
from destreg.audit.changes import record_event
from destreg.audit.models import AuditAction
from destreg.audit.notify import notify
from destreg.lib.permissions import require
from employers.models import Employer, EmployerVerification
from employers.permissions import (
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
