"""No coercion: every change to a graduate's destination is told to the graduate with a
"这不是我本人的意愿" (this was not my own wish) link, and the graduate alone can file a report
through it; the school's reviewers (a college's for their college) see and handle reports.

The link carries a token signed with SECRET_KEY (``django.core.signing``) naming the audit
row of the change and the graduate: it cannot be guessed or altered, and it works only for
the graduate signed in, only for a change the graduate was told of (the notification holding
the link must exist). Filing is idempotent per graduate and change.
"""

from collections.abc import Iterable
from functools import partial
from typing import Any

from django.core import signing
from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import Http404
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from destreg.accounts.models import User
from destreg.audit.changes import Notice, change_state, record_event
from destreg.audit.models import AuditAction, AuditEvent, Notification
from students.models import REPORT_TEXT_MAX, CoercionReport, Student
from students.permissions import can_handle_report

SALT = "students.coercion.report"
COMMENT_MAX = 1000


def report_token(event_id: int, user_id: int) -> str:
    return signing.dumps([event_id, user_id], salt=SALT)


def read_token(token: str) -> tuple[int, int]:
    """(audit row, graduate user) of a report link; Http404 for anything not signed here."""
    try:
        event_id, user_id = signing.loads(token, salt=SALT)
        return int(event_id), int(user_id)
    except (signing.BadSignature, TypeError, ValueError) as error:
        raise Http404 from error


def _report_link(graduate_id: int, event: AuditEvent, user: Any) -> str:
    if getattr(user, "pk", None) != graduate_id:
        return ""  # the unit's users are told too, but it is not their destination
    return reverse("students:not_my_will", args=[report_token(event.pk, graduate_id)])


def graduate_notice(
    graduate: User,
    message: Any,
    url: str = "",
    params: Any = None,
    *,
    others: Iterable[User] = (),
) -> Notice:
    """The door's ``Notice`` of a change to ``graduate``'s destination (approval, 退回修改,
    审核不通过, 作废, a termination step, a verifier's "not true"): the graduate is told in the
    app and by e-mail with their own "这不是我本人的意愿" link; ``others`` (the unit's users)
    are told the same without it."""
    return Notice(
        [graduate, *others],
        message,
        url,
        params if params is not None else {},
        report_link=partial(_report_link, graduate.pk),
    )


def report_context(*, user: User, token: str) -> tuple[Notification, CoercionReport | None]:
    """What the report page shows: the graduate's notification of the change, and the
    report already filed about it. Http404 unless ``user`` is the graduate the link was
    made for and was told of the change through it."""
    event_id, user_id = read_token(token)
    if user.pk != user_id or not user.is_student:
        raise Http404
    notification = (
        Notification.objects.filter(user=user, report_url=_report_path(token))
        .order_by("created_at", "id")
        .first()
    )
    if notification is None:
        raise Http404
    report = CoercionReport.objects.filter(student__user=user, event_id=event_id).first()
    return notification, report


def _report_path(token: str) -> str:
    return reverse("students:not_my_will", args=[token])


@transaction.atomic
def coercion_report_file(*, user: User, token: str, text: str = "") -> CoercionReport:
    """File the graduate's report about the change behind ``token`` (or return the one
    already filed). Http404 when ``user`` is not that graduate; ValidationError when the
    text is too long or the graduate has no registry record to file it with."""
    text = text.strip()
    if len(text) > REPORT_TEXT_MAX:
        raise ValidationError(
            _("Write at most %(max)d characters.") % {"max": REPORT_TEXT_MAX}, code="max_length"
        )
    report_context(user=user, token=token)  # the owner, told of it
    event_id, _user_id = read_token(token)
    student = (
        Student.objects.select_for_update(of=("self",)).select_related("record").get(user=user)
    )
    existing = CoercionReport.objects.filter(student=student, event_id=event_id).first()
    if existing is not None:
        return existing
    if student.record is None:
        raise ValidationError(_("Confirm your registry information first."))
    report = CoercionReport.objects.create(
        student=student,
        event_id=event_id,
        school_id=student.record.school_id,
        college_id=student.record.college_id,
        text=text,
    )
    record_event(report, by=user, action=AuditAction.REPORT_NOT_MY_WILL, created=True, comment=text)
    return report


@transaction.atomic
def coercion_report_handle(
    *, report: CoercionReport, reviewer: User, comment: str, expected_state: str | None = None
) -> CoercionReport:
    """Mark the report handled, saying how (required); audited with the comment."""
    comment = comment.strip()
    if not comment:
        raise ValidationError(_("Say how it was handled."))
    if len(comment) > COMMENT_MAX:
        raise ValidationError(
            _("Write at most %(max)d characters.") % {"max": COMMENT_MAX}, code="max_length"
        )
    return change_state(
        report,
        CoercionReport._handle,
        by=reviewer,
        may=can_handle_report,
        action=AuditAction.HANDLE_REPORT,
        expected_state=expected_state,
        comment=comment,
        values={
            "handled_by": reviewer,
            "handled_at": timezone.now(),
            "handling_comment": comment,
        },
    )


def open_reports(user: User):
    """The open reports ``user`` may see (the 核查 page's flag): the school's for its school
    reviewers, a college's for its reviewers, none for anyone else."""
    return CoercionReport.objects.visible_to(user).open()


def reports_for(user: User, *, status: str = ""):
    """The reports list page's rows, with what it shows loaded."""
    rows = CoercionReport.objects.visible_to(user).select_related(
        "student", "college", "event", "handled_by"
    )
    return rows.filter(status=status) if status else rows
