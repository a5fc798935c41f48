"""Services for destination registration by paths 二 (offline e-agreement), 三 (paper
agreement) and 四 (other destinations). Same shape as ``agreements/services.py``:
one transaction, locks (Student, then Registration), permission, transition, save,
audit, notifications on commit.
"""

from datetime import timedelta

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django_fsm import can_proceed

from agreements.models import OTHER_KINDS, Registration, ReturnLink
from agreements.permissions import (
    can_edit_registration,
    can_review_registration,
    can_upload_scan,
)
from agreements.services import SIGNED_DESTINATION, next_number, void_replaced_registration
from agreements.tasks import render_registration
from destreg.accounts.models import Role, User
from destreg.audit.models import AuditEvent, ReviewTask
from destreg.audit.notify import notify
from destreg.audit.tasks import email_after_commit
from destreg.lib.decisions import check_state
from destreg.lib.permissions import require
from destreg.reference.models import Code, CodeTable
from students.destinations import claim_approve, claim_release, claim_start
from students.models import Student
from students.permissions import can_register_destination

RETURN_LINK_DAYS = 7
APPROVE, RETURN, REJECT = "approve", "return", "reject"


def _audit(item: Registration, actor, action: str, before: str, comment: str = "") -> None:
    """Record a state change, and keep the review queue in step with it."""
    ReviewTask.sync(item)
    AuditEvent.record(
        item, actor=actor, action=action, from_state=before, to_state=item.status, comment=comment
    )


def _url(item: Registration) -> str:
    return reverse("agreements:registration", args=[item.pk])


def destination_code(path: str, kind: str = "") -> str:
    if path == Registration.Path.OTHER:
        if kind not in OTHER_KINDS:
            raise ValidationError(_("Choose the destination type."))
        return OTHER_KINDS[kind][0]
    return SIGNED_DESTINATION


@transaction.atomic
def registration_save_draft(
    *, student: Student, path: str, values: dict, registration: Registration | None = None
) -> Registration:
    """暂存: keep whatever was typed, without checking required fields."""
    require(can_register_destination(student))
    record = student.record
    if record is None:
        raise ValidationError(_("Confirm your registry information first."))
    if registration is None:
        registration = Registration(
            student=student, school_id=record.school_id, college_id=record.college_id, path=path
        )
    else:
        registration = Registration.objects.select_for_update(of=("self",)).get(pk=registration.pk)
        require(can_edit_registration(student.user, registration))
    for name, value in values.items():
        if name in ("proof", "scan") and not value:
            continue  # keep the stored file when no new one is chosen
        setattr(registration, name, value)
    registration.destination = Code.objects.get(
        table=CodeTable.DESTINATION,
        code=destination_code(path, values.get("kind", "") or registration.kind),
    )
    registration.save()
    _audit(registration, student.user, "save_draft", registration.status)
    return registration


@transaction.atomic
def registration_submit(*, registration: Registration, user: User) -> Registration:
    """提交: the application goes to the college; it now holds the student's one path."""
    student = Student.objects.select_for_update(of=("self",)).get(pk=registration.student_id)
    registration = Registration.objects.select_for_update(of=("self",)).get(pk=registration.pk)
    require(can_edit_registration(user, registration))
    claim_start(student=student, path=registration.path, object_id=registration.pk)
    before = registration.status
    registration._submit()
    registration.submitted_at = timezone.now()
    registration.save(update_fields=["status", "submitted_at"])
    _audit(registration, user, "submit", before)
    notify(
        _reviewers(registration, Role.COLLEGE_REVIEWER),
        _("A destination registration awaits your review."),
        _url(registration),
    )
    return registration


@transaction.atomic
def registration_discard(*, registration: Registration, user: User) -> None:
    """取消 a draft: it is deleted (nothing was submitted)."""
    registration = Registration.objects.select_for_update(of=("self",)).get(pk=registration.pk)
    require(can_edit_registration(user, registration))
    if registration.status != Registration.Status.DRAFT:
        raise ValidationError(_("Only a draft can be discarded."))
    registration.delete()


@transaction.atomic
def registration_withdraw(*, registration: Registration, user: User) -> Registration:
    """撤回 an application that came back to the student (or waits for a stamp that will
    not come), so another path can be taken."""
    student = Student.objects.select_for_update(of=("self",)).get(pk=registration.student_id)
    item = Registration.objects.select_for_update(of=("self",)).get(pk=registration.pk)
    if item.student_id != getattr(getattr(user, "student", None), "pk", None):
        raise PermissionDenied
    before = item.status
    if not can_proceed(item._withdraw):
        raise ValidationError(
            _("Only a returned application, or one waiting for its stamp, can be withdrawn.")
        )
    item._withdraw()
    item.save(update_fields=["status"])
    item.return_links.filter(used_at=None).update(expires_at=timezone.now())
    claim_release(student=student, path=item.path, object_id=item.pk)
    _audit(item, user, "withdraw", before)
    return item


def _reviewers(registration: Registration, role: str):
    if role == Role.COLLEGE_REVIEWER:
        return User.objects.filter(role=role, college_id=registration.college_id)
    return User.objects.filter(role=role, school_id=registration.school_id)


@transaction.atomic
def registration_review(
    *,
    registration: Registration,
    reviewer: User,
    decision: str,
    comment: str = "",
    expected_state: str | None = None,
) -> Registration:
    """审核通过 / 退回修改 / 审核不通过 at the stage the registration is in; with
    ``expected_state`` (views always pass it) only if that is the stage the reviewer saw."""
    if decision in (RETURN, REJECT) and not comment.strip():
        raise ValidationError(_("Give the student a reason."))
    student = Student.objects.select_for_update(of=("self",)).get(pk=registration.student_id)
    item = (
        Registration.objects.select_for_update(of=("self",))
        .select_related("school")
        .get(pk=registration.pk)
    )
    check_state(item, expected_state)
    require(can_review_registration(reviewer, item))
    before = item.status
    scan_stage = before in (
        Registration.Status.SCAN_COLLEGE_REVIEW,
        Registration.Status.SCAN_SCHOOL_REVIEW,
    )
    fields = ["status", "comment", "submitted_at"]
    item.comment = comment
    item.submitted_at = timezone.now()
    action = decision
    if decision == REJECT:
        item._reject()
        claim_release(student=student, path=item.path, object_id=item.pk)
        message = _("Your registration was not approved (审核不通过): %(reason)s") % {
            "reason": comment
        }
    elif decision == RETURN:
        (item._return_scan if scan_stage else item._return)()
        message = _("Your registration was returned for changes (退回修改): %(reason)s") % {
            "reason": comment
        }
    elif before == Registration.Status.COLLEGE_REVIEW:
        item._college_approve()
        action, message = "college_approve", _("The college approved; the school reviews next.")
        notify(
            _reviewers(item, Role.SCHOOL_REVIEWER),
            _("A destination registration awaits your review."),
            _url(item),
        )
    elif before == Registration.Status.SCAN_COLLEGE_REVIEW:
        item._scan_college_approve()
        action, message = "college_approve", _("The college accepted the stamped agreement.")
        notify(
            _reviewers(item, Role.SCHOOL_REVIEWER),
            _("A destination registration awaits your review."),
            _url(item),
        )
    elif item.is_offline and before == Registration.Status.SCHOOL_REVIEW:
        item._approve_information()
        action = "info_approve"
        message = _(
            "Agreement information approved: print the e-agreement, have the unit "
            "stamp it and return it."
        )
        transaction.on_commit(lambda: render_registration.enqueue(item.pk))
    else:
        (item._scan_school_approve if scan_stage else item._school_approve)()
        item.signed_at = timezone.now()
        fields.append("signed_at")
        if item.path != Registration.Path.OTHER:
            item.number = next_number(
                item.school_id, item.school.code, timezone.localdate(item.signed_at).year
            )
            fields.append("number")
        replaced = claim_approve(
            student=student,
            path=item.path,
            object_id=item.pk,
            destination_code=item.destination.code,
        )
        void_replaced_registration(replaced, reviewer)
        action, message = "school_approve", _("Approved: your destination is registered.")
        if item.is_offline:
            transaction.on_commit(lambda: render_registration.enqueue(item.pk))
    item.save(update_fields=fields)
    _audit(item, reviewer, action, before, comment)
    notify([item.student.user], message, _url(item))
    return item


@transaction.atomic
def registration_upload_scan(
    *, registration: Registration, scan, user: User | None = None, link: ReturnLink | None = None
) -> Registration:
    """本人回传 (``user`` is the student) or 用人单位协助回传 (through ``link``)."""
    Student.objects.select_for_update(of=("self",)).get(pk=registration.student_id)
    item = Registration.objects.select_for_update(of=("self",)).get(pk=registration.pk)
    if link is not None:
        link = ReturnLink.objects.select_for_update(of=("self",)).get(pk=link.pk)
        if not link.usable or link.registration_id != item.pk:
            raise ValidationError(_("This link has expired or was already used."))
        if not can_upload_scan(None, item, by_link=True):
            raise ValidationError(_("This agreement is not waiting for a stamped scan."))
        link.used_at = timezone.now()
        link.save(update_fields=["used_at"])
    else:
        require(can_upload_scan(user, item))
    before = item.status
    # Once the scan is in, no other link may upload or download any more.
    item.return_links.filter(used_at=None).update(expires_at=timezone.now())
    item.scan = scan
    item._upload_scan()
    item.submitted_at = timezone.now()
    item.save(update_fields=["scan", "status", "submitted_at"])
    _audit(item, user, "upload_scan", before, _("by the unit") if link else "")
    notify(
        _reviewers(item, Role.COLLEGE_REVIEWER),
        _("A stamped agreement awaits your review."),
        _url(item),
    )
    if link is not None:
        notify([item.student.user], _("The unit returned your stamped agreement."), _url(item))
    return item


@transaction.atomic
def return_link_send(*, registration: Registration, user: User) -> ReturnLink:
    """用人单位协助回传: e-mail the unit's contact a one-time link that expires."""
    item = Registration.objects.select_for_update(of=("self",)).get(pk=registration.pk)
    require(can_upload_scan(user, item))
    if not item.contact_email:
        raise ValidationError(_("The unit's contact e-mail is missing."))
    item.return_links.filter(used_at=None).update(expires_at=timezone.now())  # one live link
    link = ReturnLink.objects.create(
        registration=item,
        email=item.contact_email,
        expires_at=timezone.now() + timedelta(days=RETURN_LINK_DAYS),
    )
    url = settings.SITE_URL + reverse("agreements:return", args=[link.token])
    body = _(
        "%(student)s asks you to return the stamped employment agreement.\n\n"
        "Open this link to download the agreement and upload the stamped scan "
        "(valid for %(days)d days, once):\n%(url)s"
    ) % {"student": item.student.real_name, "days": RETURN_LINK_DAYS, "url": url}
    email_after_commit(_("Please return the stamped employment agreement"), body, [link.email])
    _audit(item, user, "send_return_link", item.status, link.email)
    return link
