"""Proofs are kept three years after graduation, then removed (data minimisation).

Every file uploaded to show a graduate's destination is evidence: the registration's proofs
and its stamped scan, and a termination request's supporting document (``EVIDENCE_FILES``).
The agreement PDFs the app renders (``Agreement.pdf``, ``Registration.pdf``) are not: they
are made from the rows' own data, which stays, and are rendered again when missing (a
download, ``recover_tasks``), so removing them would minimise nothing.

Until ``RETENTION_YEARS`` after the graduate's graduation no evidence may be removed through
the app: ``evidence_purge`` refuses, the admin cannot delete the rows at all
(agreements/admin.py), and ``manage.py purge_expired`` lists only what is past the date.

The graduation date is the registry record's ``graduation_date`` (学籍: what the school
reported, the date on the diploma), not ``graduation_year``: a class graduating in June is
kept until June three years on, not until a January. A graduate without a confirmed record
(their files cannot be tied to a graduation) is kept.

A draft never submitted is not evidence: 取消 still deletes it (its files are not removed
from storage then; purge_expired does not see them either, having no row).

Removing evidence deletes the files from storage and empties their fields; the rows stay, with
their audit trail: they are the registered destination itself (claims, statistics, the
registry's 毕业去向), which outlives its proofs.
"""

from dataclasses import dataclass
from datetime import date

from django.core.exceptions import ValidationError
from django.db import models, transaction
from django.db.models import Q
from django.utils.translation import gettext as _

from agreements.models import Registration, Termination
from destreg.accounts.models import Role, User
from destreg.audit.changes import record_event
from destreg.audit.models import AuditAction
from destreg.lib.permissions import ALLOW, Decision, deny, require
from students.models import Student

RETENTION_YEARS = 3

# model → its files holding evidence, and the path from it to the student's graduation date.
EVIDENCE_FILES: dict[type[models.Model], tuple[tuple[str, ...], tuple[str, ...]]] = {
    Registration: (("proof", "extra_proof", "scan"), ("student__record__graduation_date",)),
    Termination: (
        ("document",),
        (
            "agreement__student__record__graduation_date",
            "registration__student__record__graduation_date",
        ),
    ),
}


def years_after(day: date, years: int) -> date:
    """``day`` ``years`` later (29 February becomes 28 February)."""
    try:
        return day.replace(year=day.year + years)
    except ValueError:
        return day.replace(year=day.year + years, day=28)


def student_of(item: models.Model) -> Student | None:
    if isinstance(item, Termination):
        parent = item.agreement or item.registration
        return parent.student if parent is not None else None
    return getattr(item, "student", None)


def retained_until(item: models.Model) -> date | None:
    """The first day ``item``'s evidence may be removed; None: kept (no graduation known)."""
    student = student_of(item)
    record = student.record if student is not None else None
    if record is None:
        return None
    return years_after(record.graduation_date, RETENTION_YEARS)


def can_purge_evidence(user: User | None, item: models.Model, today: date) -> Decision:
    """Only the system (``user`` None: purge_expired) or a platform admin, and only once the
    retention period is over."""
    if user is not None and user.role != Role.PLATFORM_ADMIN:
        return deny(_("Only a platform administrator may remove proofs."), visible=False)
    until = retained_until(item)
    if until is None:
        return deny(_("The graduation date is unknown: the proofs are kept."))
    if today < until:
        return deny(
            _("Proofs are kept three years after graduation: until %(date)s.")
            % {"date": until.isoformat()}
        )
    return ALLOW


def stored_files(item: models.Model) -> list[str]:
    """The names of ``item``'s evidence fields holding a file."""
    fields, _paths = EVIDENCE_FILES[type(item)]
    return [name for name in fields if getattr(item, name)]


@transaction.atomic
def evidence_purge(*, item: models.Model, by: User | None, today: date) -> list[str]:
    """Delete ``item``'s evidence files from storage and empty their fields, once its
    retention is over (PermissionDenied before, or for anyone but a platform admin or the
    system). Audited (``PURGE_EVIDENCE``, the fields and stored names). Returns the stored
    names removed. The files go when the transaction commits, so a rollback keeps them."""
    model = type(item)
    if model not in EVIDENCE_FILES:
        raise ValidationError(_("This item holds no proofs."))
    item = model._default_manager.select_for_update(of=("self",)).get(pk=item.pk)
    require(can_purge_evidence(by, item, today))
    names = stored_files(item)
    if not names:
        return []
    removed = {name: getattr(item, name).name for name in names}
    storages = {name: getattr(item, name).storage for name in names}
    for name in names:
        setattr(item, name, "")
    item.save(update_fields=names)
    record_event(item, by=by, action=AuditAction.PURGE_EVIDENCE, changes={"removed": removed})

    def delete_files() -> None:
        for name, stored in removed.items():
            storages[name].delete(stored)

    transaction.on_commit(delete_files)
    return list(removed.values())


@dataclass(frozen=True)
class Expired:
    item: models.Model
    graduation_date: date | None
    files: list[str]


def expired_evidence(today: date) -> list[Expired]:
    """Every item holding evidence whose retention is over on ``today``."""
    cutoff = years_after(today, -RETENTION_YEARS)  # graduated on or before: past retention
    found = []
    for model, (fields, paths) in EVIDENCE_FILES.items():
        has_file = Q()
        for name in fields:
            has_file |= ~Q(**{name: ""})
        graduated = Q()
        for path in paths:
            graduated |= Q(**{f"{path}__lte": cutoff})
        queryset = model._default_manager.filter(has_file, graduated).order_by("pk")
        for item in queryset.iterator():
            until = retained_until(item)
            if until is not None and until <= today:  # the query's answer, checked per item
                files = [getattr(item, name).name for name in stored_files(item)]
                found.append(Expired(item, student_of(item).record.graduation_date, files))  # type: ignore[union-attr]
    return found
