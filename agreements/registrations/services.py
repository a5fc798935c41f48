"""Services for destination registration by paths 二 (offline e-agreement), 三 (paper
agreement) and 四 (other destinations). Same shape as ``agreements/online/services.py``:
one transaction that locks the Student first; every state change goes through the door
(destreg/audit/changes.py).
"""

from datetime import timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from agreements.approval import SIGNED_DESTINATION, destination_approve, signed_values
from agreements.evidence import check_evidence
from agreements.models import OTHER_KINDS, Registration, ReturnLink
from agreements.registrations.forms import PATH_FIELDS
from agreements.registrations.models import SCAN_REVIEW
from agreements.registrations.permissions import (
    can_edit_registration,
    can_review_registration,
    can_upload_scan,
    can_withdraw_registration,
)
from agreements.tasks import render_registration
from destreg.accounts.models import User
from destreg.audit.changes import Notice, change_state, record_event
from destreg.audit.models import AuditAction
from destreg.audit.stages import COLLEGE
from destreg.audit.tasks import email_after_commit
from destreg.lib.permissions import require
from destreg.lib.uploads import file_sha256
from destreg.reference.models import Code, CodeTable
from students.coercion import graduate_notice
from students.destinations import claim_release, claim_start
from students.models import Student
from students.permissions import can_register_destination

RETURN_LINK_DAYS = 7
APPROVE, RETURN, REJECT = "approve", "return", "reject"


def _url(item: Registration) -> str:
    return reverse("agreements:registration", args=[item.pk])


# Each proof file field and the field holding its SHA-256 (the 核查 page groups on it).
PROOF_DIGESTS = {"proof": "proof_sha256", "extra_proof": "extra_proof_sha256"}


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
        if name in PROOF_DIGESTS:  # a new file (or none): its digest goes with it
            setattr(registration, PROOF_DIGESTS[name], file_sha256(value) if value else "")
    registration.destination = Code.objects.get(
        table=CodeTable.DESTINATION,
        code=destination_code(path, values.get("kind", "") or registration.kind),
    )
    registration.save()
    record_event(registration, by=student.user, action=AuditAction.SAVE_DRAFT)
    return registration


@transaction.atomic
def registration_submit(*, registration: Registration, user: User) -> Registration:
    """提交: the application goes to the college; it now holds the student's one path.
    Refused (ValidationError) unless it meets its destination's evidence rule
    (agreements/evidence.py), whatever form or client sent it."""
    student = Student.objects.select_for_update(of=("self",)).get(pk=registration.student_id)
    item = (
        Registration.objects.select_for_update(of=("self",))
        .select_related("destination")
        .get(pk=registration.pk)
    )
    check_evidence(item, set(PATH_FIELDS[item.path]), timezone.localdate())
    change_state(
        registration,
        Registration._submit,
        by=user,
        may=can_edit_registration,
        action=AuditAction.SUBMIT,
        values=lambda item: {"submitted_at": timezone.now()},
    )
    claim_start(student=student, path=registration.path, object_id=registration.pk)
    return registration


@transaction.atomic
def registration_save_and_submit(
    *, student: Student, path: str, values: dict, registration: Registration | None = None
) -> Registration:
    """提交 from the form: save what was typed and send it for review, in one transaction.
    Refused (e.g. by 四选一: another path holds the destination), nothing is kept: no draft
    is left behind for an application that was never saved before."""
    saved = registration_save_draft(
        student=student, path=path, values=values, registration=registration
    )
    return registration_submit(registration=saved, user=student.user)


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
    item = change_state(
        registration,
        Registration._withdraw,
        by=user,
        may=can_withdraw_registration,
        action=AuditAction.WITHDRAW,
    )
    item.return_links.filter(used_at=None).update(expires_at=timezone.now())
    claim_release(student=student, path=item.path, object_id=item.pk)
    return item


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
        .select_related("school", "student__user", "destination")
        .get(pk=registration.pk)
    )
    values = {"comment": comment, "submitted_at": timezone.now()}
    graduate = item.student.user
    url = _url(item)
    scan_stage = item.status in SCAN_REVIEW

    def decide(transition, action: AuditAction, values, notify: list[Notice]) -> Registration:
        return change_state(
            item,
            transition,
            by=reviewer,
            may=can_review_registration,
            expected_state=expected_state,
            action=action,
            comment=comment,
            values=values,
            notify=notify,
        )

    if decision == REJECT:
        decide(
            Registration._reject,
            AuditAction.REJECT,
            values,
            [
                graduate_notice(
                    graduate,
                    gettext_lazy("Your registration was not approved: %(reason)s"),
                    url,
                    {"reason": comment},
                )
            ],
        )
        claim_release(student=student, path=item.path, object_id=item.pk)
        return item
    if decision == RETURN:
        return decide(
            Registration._return_scan if scan_stage else Registration._return,
            AuditAction.RETURN,
            values,
            [
                graduate_notice(
                    graduate,
                    gettext_lazy("Your registration was returned for changes: %(reason)s"),
                    url,
                    {"reason": comment},
                )
            ],
        )
    if Registration.REVIEW.stage_of(item) == COLLEGE:
        return decide(
            Registration._scan_college_approve if scan_stage else Registration._college_approve,
            AuditAction.COLLEGE_APPROVE,
            values,
            [
                graduate_notice(
                    graduate,
                    gettext_lazy("The college accepted the stamped agreement.")
                    if scan_stage
                    else gettext_lazy("The college approved; the school reviews next."),
                    url,
                ),
            ],
        )
    if item.is_offline and not scan_stage:
        decide(
            Registration._approve_information,
            AuditAction.INFO_APPROVE,
            values,
            [
                graduate_notice(
                    graduate,
                    gettext_lazy(
                        "Agreement information approved: print the e-agreement, have the unit "
                        "stamp it and return it."
                    ),
                    url,
                )
            ],
        )
        transaction.on_commit(lambda: render_registration.enqueue(item.pk))
        return item

    def signed(item: Registration) -> dict:
        if item.path == Registration.Path.OTHER:  # no agreement, no number
            return values | {"signed_at": timezone.now()}
        return values | signed_values(item)

    decide(
        Registration._scan_school_approve if scan_stage else Registration._school_approve,
        AuditAction.SCHOOL_APPROVE,
        signed,
        [_approved_notice(item, graduate, url)],
    )
    destination_approve(
        student=student,
        path=item.path,
        object_id=item.pk,
        destination_code=item.destination.code,
        by=reviewer,
    )
    if item.is_offline:
        transaction.on_commit(lambda: render_registration.enqueue(item.pk))
    return item


def _approved_notice(item: Registration, graduate: User, url: str) -> Notice:
    """The student's notice of the school's approval: a signing says 签约成功 in the online
    path's words, with the number given on commit; an other destination has no agreement."""
    if item.path == Registration.Path.OTHER:
        return graduate_notice(
            graduate, gettext_lazy("Approved: your destination is registered."), url
        )
    return graduate_notice(
        graduate,
        gettext_lazy("Signed successfully: agreement %(number)s."),
        url,
        lambda signed: {"number": signed.number},
    )


@transaction.atomic
def registration_upload_scan(
    *, registration: Registration, scan, user: User | None = None, link: ReturnLink | None = None
) -> Registration:
    """本人回传 (``user`` is the student) or 用人单位协助回传 (through ``link``)."""
    Student.objects.select_for_update(of=("self",)).get(pk=registration.student_id)
    item = (
        Registration.objects.select_for_update(of=("self",))
        .select_related("destination")
        .get(pk=registration.pk)
    )
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
    item.scan = scan  # the rule of 毕业去向 10 asks for the stamped scan (not kept if refused)
    check_evidence(item, {"scan"}, timezone.localdate())
    # Once the scan is in, no other link may upload or download any more.
    item.return_links.filter(used_at=None).update(expires_at=timezone.now())
    notices = []
    if link is not None:
        notices.append(
            graduate_notice(
                item.student.user,
                gettext_lazy("The unit returned your stamped agreement."),
                _url(item),
            )
        )
    return change_state(
        item,
        Registration._upload_scan,
        by=user,
        may=None if link is not None else can_upload_scan,  # a valid link was checked above
        action=AuditAction.UPLOAD_SCAN,
        comment=_("by the unit") if link else "",
        values={"scan": scan, "submitted_at": timezone.now()},
        notify=notices,
    )


@transaction.atomic
def return_link_send(
    *, registration: Registration, user: User, site_url: str | None = None
) -> ReturnLink:
    """用人单位协助回传: e-mail the unit's contact a one-time link that expires; the link
    starts with ``site_url`` (the view's ``absolute_base``), by default SITE_URL."""
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
    url = (site_url or settings.SITE_URL) + reverse("agreements:return", args=[link.token])
    body = _(
        "%(student)s asks you to return the stamped employment agreement.\n\n"
        "Open this link to download the agreement and upload the stamped scan "
        "(valid for %(days)d days, once):\n%(url)s"
    ) % {"student": item.student.real_name, "days": RETURN_LINK_DAYS, "url": url}
    email_after_commit(_("Please return the stamped employment agreement"), body, [link.email])
    record_event(item, by=user, action=AuditAction.SEND_RETURN_LINK, comment=link.email)
    return link
