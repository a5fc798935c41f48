"""What an approved destination entails, whichever path it came by: its 协议书编号 and
signing time, the student's one approved destination (students/destinations.py), and the
other-destination registration it replaces becoming 已作废."""

from datetime import datetime
from typing import Any

from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy

from agreements.models import AgreementSequence, Registration
from destreg.audit.changes import change_state
from destreg.audit.models import AuditAction
from students.coercion import graduate_notice
from students.destinations import claim_approve
from students.models import DestinationPath, Student

SIGNED_DESTINATION = "10"  # 签就业协议形式就业


def next_number(school_id: int, school_code: str, year: int) -> str:
    """协议书编号: year + school code + a per-school sequence; numbers are never reused."""
    AgreementSequence.objects.get_or_create(school_id=school_id, year=year)
    sequence = AgreementSequence.objects.select_for_update(of=("self",)).get(
        school_id=school_id, year=year
    )
    sequence.last += 1
    sequence.save(update_fields=["last"])
    return f"{year}{school_code}{sequence.last:06d}"


def signed_values(item: Any, now: datetime | None = None) -> dict[str, Any]:
    """The fields an agreement (or a registration with one) gets when the school signs it;
    for the door's ``values`` (``item.school`` must be loaded)."""
    now = now or timezone.now()
    year = timezone.localdate(now).year
    return {"signed_at": now, "number": next_number(item.school_id, item.school.code, year)}


def destination_approve(
    *, student: Student, path: str, object_id: int, destination_code: str, by: Any
) -> None:
    """The student's destination by ``path`` is approved; an approved other destination it
    replaces becomes 已作废 (void), and its student is told."""
    replaced = claim_approve(
        student=student, path=path, object_id=object_id, destination_code=destination_code
    )
    if replaced is None or replaced.path != DestinationPath.OTHER:
        return
    registration = Registration.objects.select_related("student__user").get(pk=replaced.object_id)
    change_state(
        registration,
        Registration._void,
        by=by,
        may=None,  # follows from the approval the actor was allowed to make
        action=AuditAction.VOID,
        notify=[
            graduate_notice(
                registration.student.user,
                gettext_lazy(
                    "Your other-destination registration is void: your signing was approved."
                ),
                reverse("agreements:registration", args=[registration.pk]),
            )
        ],
    )
