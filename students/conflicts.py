"""Cross-school registry conflicts: a case for the platform admin.

The registry holds one record a year per ID number, so the first school to import a graduate
would otherwise decide who they are: another school's staff could import them first, with
contacts of their choosing, and confirm the record through a code sent to themselves. So when
an import row or a 信息导入 approval is refused because ANOTHER school's record of that year
has the ID number, a ``RegistryConflict`` is opened (``conflict_open``), the platform admins
are told, and the holding record cannot be confirmed or bound (``is_disputed``, checked by
``students.binding``) until an admin resolves the case (``conflict_resolve``).

Cases are written in their own transaction: a refused import writes no records, but the
claim is evidence and must stay.
"""

from dataclasses import dataclass

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from destreg.accounts.models import Role, User
from destreg.audit.changes import record_event
from destreg.audit.models import AuditAction
from destreg.audit.notify import notify
from destreg.reference.models import School
from students.models import (
    RegistryConflict,
    RegistryImportJob,
    RegistryRecord,
    RegistryRequest,
    Student,
)


@dataclass(frozen=True)
class Claim:
    """A school's refused claim on a record another school holds."""

    record_id: int
    graduation_year: int
    id_number_digest: str


def disputed_message() -> str:
    return _(
        "This registry record is being checked between schools, so it cannot be confirmed "
        "for now; ask your school's employment office."
    )


def is_disputed(record: RegistryRecord) -> bool:
    """Whether an open case holds ``record`` (no confirming or binding while it does)."""
    return RegistryConflict.objects.open().filter(record_id=record.pk).exists()


def conflict_open(
    *,
    claims: list[Claim],
    school: School,
    actor: User | None,
    source: str,
    filename: str = "",
    job: RegistryImportJob | None = None,
    request: RegistryRequest | None = None,
) -> list[RegistryConflict]:
    """Open a case per claimed record, unless one is open for it and ``school``.

    Claims on ``school``'s own records are ignored (not a cross-school conflict). Each case
    is committed on its own, so the caller's refusal does not roll it back: call this
    outside any transaction that will be rolled back. Returns the cases opened.
    """
    opened: list[RegistryConflict] = []
    for claim in claims:
        record = RegistryRecord.objects.filter(pk=claim.record_id).first()
        if record is None or record.school_id == school.pk:
            continue
        case = RegistryConflict(
            graduation_year=claim.graduation_year,
            id_number_digest=claim.id_number_digest,
            record=record,
            holding_school_id=record.school_id,
            holding_student_no=record.student_no,
            bound_when_claimed=Student.objects.filter(record=record).exists(),
            claiming_school=school,
            claimed_by=actor,
            source=source,
            filename=filename[:255],
            job=job,
            request=request,
        )
        try:
            with transaction.atomic():
                if (
                    RegistryConflict.objects.open()
                    .filter(record=record, claiming_school=school)
                    .exists()
                ):
                    continue
                case.save()
                record_event(
                    case,
                    by=actor,
                    action=AuditAction.REGISTRY_CONFLICT,
                    changes={
                        "record": record.pk,
                        "holding_school": record.school_id,
                        "claiming_school": school.pk,
                        "source": source,
                        "file": case.filename,
                        "request": request.pk if request else None,
                        "bound": case.bound_when_claimed,
                    },
                )
                _tell_admins(case)
        except IntegrityError:
            continue  # opened meanwhile by a concurrent claim
        opened.append(case)
    return opened


def _tell_admins(case: RegistryConflict) -> None:
    admins = User.objects.filter(role=Role.PLATFORM_ADMIN, is_active=True)
    if case.bound_when_claimed:
        message = gettext_lazy(
            "Registry conflict: a school claimed a graduate of %(year)d whose ID number is held "
            "by record %(no)s of another school (already linked to an account). The record "
            "cannot be confirmed until you resolve the case."
        )
    else:
        message = gettext_lazy(
            "Registry conflict: a school claimed a graduate of %(year)d whose ID number is held "
            "by record %(no)s of another school. The record cannot be confirmed until you "
            "resolve the case."
        )
    params = {"year": case.graduation_year, "no": case.holding_student_no}
    url = reverse("admin:students_registryconflict_change", args=[case.pk])
    notify(admins, message, url, params)


@transaction.atomic
def conflict_resolve(*, conflict: RegistryConflict, admin: User, note: str) -> RegistryConflict:
    """A platform admin closes the case, saying what was found and done (audited)."""
    if not admin.is_platform_admin:
        raise PermissionDenied(_("Only a platform administrator resolves registry conflicts."))
    if not note.strip():
        raise ValidationError(_("Say what was checked and done."))
    conflict = RegistryConflict.objects.select_for_update().get(pk=conflict.pk)
    if not conflict.is_open:
        raise ValidationError(_("This case is already resolved."))
    conflict.resolved_at = timezone.now()
    conflict.resolved_by = admin
    conflict.note = note.strip()
    conflict.save(update_fields=["resolved_at", "resolved_by", "note"])
    record_event(
        conflict,
        by=admin,
        action=AuditAction.RESOLVE_CONFLICT,
        comment=conflict.note,
        changes={"record": conflict.record_id},
    )
    return conflict
