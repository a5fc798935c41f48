"""核查不实: an approved destination that verification (就业核查, reviews/verification.py)
found not true goes back to the graduate, whichever path it came by.

- an approved registration (paths 二, 三, 四) is 退回修改 again (``RETURNED``): the
  student corrects it and submits it for a new review, or withdraws it;
- a signed online agreement cannot be edited by the student (its terms are the
  employer's): it becomes 核查不实 (``FOUND_UNTRUE``) and the student registers their
  destination again by any path.

Either way the approved destination no longer counts (students/destinations.py), the
graduate and their college's reviewers are told, and the caller keeps the approved
version: ``approved_snapshot`` freezes what was approved before the change.
"""

from datetime import date, datetime
from typing import Any

from django.core.exceptions import FieldDoesNotExist, ValidationError
from django.db import models, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from agreements.models import Agreement, Registration, Termination
from destreg.accounts.models import User
from destreg.audit.changes import Notice, change_state
from destreg.audit.models import AuditAction
from destreg.audit.stages import COLLEGE
from destreg.lib.permissions import ALLOW, Decision, deny
from students.coercion import graduate_notice
from students.destinations import claim_release, claim_reopen
from students.models import DestinationPath, Student

Source = Agreement | Registration

# Internal columns that say nothing about the destination itself.
_NOT_SNAPSHOT = {
    "id",
    "status",
    "verify_token",
    "pdf",
    "pdf_sha256",
    "content_sha256",
    "pdf_queued_at",
    "invitation",
    "student",
    "school",
    "college",
    "reason",
    "comment",
    "submitted_at",
}


def _plain(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, models.Model):
        code = getattr(value, "code", None)
        return f"{code} {value}" if code and str(code) not in str(value) else str(value)
    if isinstance(value, datetime):
        return timezone.localtime(value).strftime("%Y-%m-%d %H:%M")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, models.fields.files.FieldFile):
        return value.name or ""
    return value if isinstance(value, bool | int | float) else str(value)


def approved_snapshot(source: Source) -> dict[str, Any]:
    """The approved destination as it stands, frozen as JSON: the model, its id and status,
    and each non-empty field (by name; the page labels them in the reader's language)."""
    fields: list[list[Any]] = []
    for field in source._meta.concrete_fields:
        if field.name in _NOT_SNAPSHOT:
            continue
        # A choice is kept as its value and labelled when shown, in the reader's language.
        shown = _plain(getattr(source, field.name))
        if shown in ("", False):
            continue
        fields.append([field.name, shown])
    if isinstance(source, Agreement):
        fields[:0] = [
            ["employer", source.employer.name],
            ["uscc", source.employer.uscc],
        ]
    return {
        "model": source._meta.label,
        "id": source.pk,
        "status": source.status,
        "fields": fields,
    }


def snapshot_rows(snapshot: dict[str, Any]) -> list[tuple[str, Any]]:
    """The snapshot's fields with their labels in the active language."""
    model = {"agreements.Agreement": Agreement, "agreements.Registration": Registration}.get(
        snapshot.get("model", "")
    )
    extra = {"employer": _("employer"), "uscc": _("unified social credit code")}
    rows = []
    for name, value in snapshot.get("fields", []):
        label: Any = extra.get(name, name)
        if model is not None and name not in extra:
            try:
                field = model._meta.get_field(name)
            except FieldDoesNotExist:  # a field removed since: keep its name
                pass
            else:
                label = getattr(field, "verbose_name", name)
                choices = dict(getattr(field, "flatchoices", None) or [])
                value = choices.get(value, value)
        rows.append((str(label), str(value)))
    return rows


def is_approved_destination(source: Source) -> bool:
    if isinstance(source, Agreement):
        return source.status == Agreement.Status.SIGNED
    return source.status == Registration.Status.APPROVED


def can_find_untrue(user: User, source: Source) -> Decision:
    """May ``user`` send ``source`` back as not true? State first: only an approved
    destination with no change of mind under way; then role and scope: a reviewer of its
    school or college (the verification service also requires the assignment)."""
    if not is_approved_destination(source):
        return deny(_("Only an approved destination can be found not true."))
    if not (
        user.is_authenticated
        and (
            user.is_platform_admin
            or (user.is_school_reviewer and user.school_id == source.school_id)
            or (user.is_college_reviewer and user.college_id == source.college_id)
        )
    ):
        return deny(_("Not found."), visible=False)
    field = "agreement" if isinstance(source, Agreement) else "registration"
    if Termination.objects.filter(**{field: source}, status__in=Termination.OPEN).exists():
        return deny(
            _("A termination or void request is under review; decide it before this check.")
        )
    return ALLOW


@transaction.atomic
def destination_found_untrue(*, source: Source, by: User, reason: str) -> dict[str, Any]:
    """核查不实: send ``source`` back to the graduate with ``reason``; return the snapshot of
    the approved version taken under lock, before the change."""
    if not reason.strip():
        raise ValidationError(_("Give the graduate a reason."))
    student = Student.objects.select_for_update(of=("self",)).get(pk=source.student_id)
    model = type(source)
    source = model.objects.select_for_update(of=("self",)).get(pk=source.pk)
    snapshot = approved_snapshot(source)
    url = source.get_absolute_url()
    college = list(model.REVIEW.reviewers(source, COLLEGE))
    if isinstance(source, Agreement):
        message = gettext_lazy(
            "Verification found your signing not true: %(reason)s. Register your destination again."
        )
        change_state(
            source,
            Agreement._found_untrue,
            by=by,
            may=can_find_untrue,
            action=AuditAction.FOUND_UNTRUE,
            comment=reason,
            values={"reason": reason},
            notify=_notices(student, college, message, reason, url),
        )
        claim_release(student=student, path=DestinationPath.ONLINE, object_id=source.pk)
    else:
        message = gettext_lazy(
            "Verification found your destination registration not true and returned it for "
            "changes: %(reason)s"
        )
        change_state(
            source,
            Registration._found_untrue,
            by=by,
            may=can_find_untrue,
            action=AuditAction.FOUND_UNTRUE,
            comment=reason,
            values={"comment": reason},
            notify=_notices(student, college, message, reason, url),
        )
        claim_reopen(student=student, path=source.path, object_id=source.pk)
    return snapshot


def _notices(
    student: Student, college: list[User], message: Any, reason: str, url: str
) -> list[Notice]:
    return [
        graduate_notice(student.user, message, url, {"reason": reason}),
        Notice(
            college,
            gettext_lazy(
                "Verification found the destination of %(name)s not true; it went back to "
                "the graduate: %(reason)s"
            ),
            url,
            {"name": student.real_name, "reason": reason},
        ),
    ]
