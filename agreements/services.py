"""Writes for online signing. Each service is one transaction that locks what it
changes, checks permission, runs the transition, saves, audits and notifies.

Lock order, to keep concurrent requests from deadlocking: Student, then
Invitation or Agreement, then Termination.
"""

from datetime import datetime, time, timedelta
from typing import cast

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from agreements.models import (
    Agreement,
    AgreementSequence,
    Invitation,
    Registration,
    Termination,
    Terms,
)
from agreements.permissions import (
    can_answer_invitation,
    can_answer_termination,
    can_invite,
    can_invite_graduate_of,
    can_request_termination,
    can_review_agreement,
    can_review_termination,
)
from agreements.tasks import render_agreement
from destreg.accounts.models import Role, User
from destreg.audit.models import AuditEvent, ReviewTask
from destreg.audit.notify import notify
from destreg.lib.decisions import check_state
from destreg.lib.permissions import require
from destreg.lib.pii import id_number_digest
from destreg.reference.models import School
from students.destinations import claim_approve, claim_release, claim_start
from students.models import (
    DestinationClaim,
    DestinationPath,
    RegistryRecord,
    Student,
    current_graduation_year,
)

# Terms copied from an invitation to its agreement (foreign keys by id).
TERMS_FIELDS = [field.attname for field in Terms._meta.fields]
SIGNED_DESTINATION = "10"  # 签就业协议形式就业


def _college_reviewers(agreement: Agreement):
    return User.objects.filter(role=Role.COLLEGE_REVIEWER, college_id=agreement.college_id)


def _school_reviewers(agreement: Agreement):
    return User.objects.filter(role=Role.SCHOOL_REVIEWER, school_id=agreement.school_id)


def _audit(obj, actor, action: str, before: str, comment: str = "", **changes) -> None:
    """Record a state change, and keep the review queue in step with it."""
    if hasattr(obj, "review_entry"):
        ReviewTask.sync(obj)
    AuditEvent.record(
        obj,
        actor=actor,
        action=action,
        from_state=before,
        to_state=obj.status,
        comment=comment,
        changes=changes,
    )


# --- invitations -------------------------------------------------------------


def find_invitable_student(name: str, id_number: str) -> Student | None:
    """A current-year graduate who passed the first-login check, by name and ID number."""
    return (
        Student.objects.filter(
            id_number_digest=id_number_digest(id_number),
            real_name=name,
            confirmed_at__isnull=False,
            record__graduation_year=current_graduation_year(),
        )
        .select_related("record__school", "user")
        .first()
    )


def _expire(invitation: Invitation) -> None:
    before = invitation.status
    invitation._expire()
    invitation.save(update_fields=["status"])
    _audit(invitation, None, "expire", before)
    notify(
        invitation.employer.users.all(),
        _("Your invitation to %(name)s expired without an answer.")
        % {"name": invitation.student.real_name},
        reverse("agreements:invitation", args=[invitation.pk]),
    )


@transaction.atomic
def invitation_send(
    *, sender: User, name: str, id_number: str, terms: dict, deadline: datetime | None = None
) -> Invitation:
    """Invite a graduate. The error never says whether the person exists."""
    require(can_invite(sender))
    employer_id = cast(int, sender.employer_id)  # can_invite checked it is set
    student = find_invitable_student(name, id_number)
    # A graduate of a school the unit is not verified for gets the same answer as nobody.
    if student is None or not can_invite_graduate_of(
        sender,
        student.record.school_id,  # type: ignore[union-attr]
    ):
        raise ValidationError(
            _("No current graduate who can sign matches this name and ID number.")
        )
    student = (
        Student.objects.select_for_update(of=("self",))
        .select_related("record__school")
        .get(pk=student.pk)
    )
    for stale in (
        Invitation.objects.select_for_update(of=("self",))
        .overdue()
        .filter(employer_id=employer_id, student=student)
    ):
        _expire(stale)
    if Invitation.objects.live().filter(employer_id=employer_id, student=student).exists():
        raise ValidationError(_("You already have a live invitation to this graduate."))
    school: School = student.record.school  # type: ignore[union-attr]
    if deadline is None:
        day = timezone.localdate() + timedelta(days=school.invitation_validity_days)
        deadline = timezone.make_aware(datetime.combine(day, time(23, 59, 59)))
    if deadline <= timezone.now():
        raise ValidationError(_("The answer deadline must be in the future."))
    invitation = Invitation.objects.create(
        employer_id=employer_id, student=student, sent_by=sender, deadline=deadline, **terms
    )
    _audit(invitation, sender, "invite", "")
    notify(
        [student.user],
        _("%(employer)s invites you to sign an employment agreement.")
        % {"employer": invitation.employer.name},
        reverse("agreements:invitation", args=[invitation.pk]),
    )
    return invitation


def _lock_invitation(invitation: Invitation, user: User) -> Invitation:
    """Lock the student first (one signing per student), then the invitation."""
    Student.objects.select_for_update(of=("self",)).get(pk=invitation.student_id)
    invitation = Invitation.objects.select_for_update(of=("self",)).get(pk=invitation.pk)
    require(can_answer_invitation(user, invitation))
    return invitation


@transaction.atomic
def invitation_accept(*, invitation: Invitation, user: User) -> Agreement:
    """接受: the invitation becomes an agreement awaiting the college's review."""
    invitation = _lock_invitation(invitation, user)
    record: RegistryRecord = user.student.record  # type: ignore[assignment]
    before = invitation.status
    invitation._accept()
    invitation.answered_at = timezone.now()
    invitation.save(update_fields=["status", "answered_at"])
    try:
        with transaction.atomic():
            agreement = Agreement.objects.create(
                invitation=invitation,
                student_id=invitation.student_id,
                employer_id=invitation.employer_id,
                school_id=record.school_id,
                college_id=record.college_id,
                **{name: getattr(invitation, name) for name in TERMS_FIELDS},
            )
    except IntegrityError:
        # The partial unique index caught a second signing the locks did not.
        raise ValidationError(_("You already have an agreement under review or signed.")) from None
    claim_start(student=user.student, path=DestinationPath.ONLINE, object_id=agreement.pk)
    _audit(invitation, user, "accept", before)
    _audit(agreement, user, "accept", "")
    url = reverse("agreements:agreement", args=[agreement.pk])
    notify(
        invitation.employer.users.all(),
        _("%(name)s accepted your invitation; the college reviews it next.")
        % {"name": user.student.real_name},
        url,
    )
    notify(_college_reviewers(agreement), _("A new agreement awaits your review."), url)
    return agreement


@transaction.atomic
def invitation_decline(*, invitation: Invitation, user: User) -> Invitation:
    """拒绝, within the validity period."""
    invitation = _lock_invitation(invitation, user)
    before = invitation.status
    invitation._decline()
    invitation.answered_at = timezone.now()
    invitation.save(update_fields=["status", "answered_at"])
    _audit(invitation, user, "decline", before)
    notify(
        invitation.employer.users.all(),
        _("%(name)s declined your invitation.") % {"name": user.student.real_name},
        reverse("agreements:invitation", args=[invitation.pk]),
    )
    return invitation


def invitations_expire(now: datetime | None = None) -> int:
    """Mark overdue invitations 已失效 (the periodic job); returns how many."""
    count = 0
    for pk in Invitation.objects.overdue(now).values_list("pk", flat=True).iterator():
        with transaction.atomic():
            invitation = (
                Invitation.objects.select_for_update(skip_locked=True, of=("self",))
                .overdue(now)
                .filter(pk=pk)
                .select_related("employer", "student")
                .first()
            )
            if invitation is not None:
                _expire(invitation)
                count += 1
    return count


def queue_agreement_pdf(agreement: Agreement) -> None:
    """Render the final PDF in the background once this transaction commits."""
    Agreement.objects.filter(pk=agreement.pk).update(pdf_queued_at=timezone.now())
    transaction.on_commit(lambda: render_agreement.enqueue(agreement.pk))


def queue_missing_pdfs(queued_before: datetime) -> int:
    """Queue again the PDFs of signed agreements that still have none, last queued before
    ``queued_before`` (the worker failed, e.g. on a full disk); how many."""
    missing = Agreement.objects.filter(number__isnull=False, pdf="").filter(
        Q(pdf_queued_at__isnull=True) | Q(pdf_queued_at__lt=queued_before)
    )
    count = 0
    for agreement in missing.only("pk").iterator():
        with transaction.atomic():
            queue_agreement_pdf(agreement)
        count += 1
    return count


# --- agreement review --------------------------------------------------------


def void_replaced_registration(replaced: DestinationClaim | None, actor: User) -> None:
    """An approved signing replaces an approved other destination: it becomes 已作废."""
    if replaced is None or replaced.path != DestinationPath.OTHER:
        return
    registration = Registration.objects.select_for_update(of=("self",)).get(pk=replaced.object_id)
    before = registration.status
    registration._void()
    registration.save(update_fields=["status"])
    _audit(registration, actor, "void", before)
    notify(
        [registration.student.user],
        _("Your other-destination registration is void (已作废): your signing was approved."),
        reverse("agreements:registration", args=[registration.pk]),
    )


def next_number(school_id: int, school_code: str, year: int) -> str:
    """协议书编号: year + school code + a per-school sequence; numbers are never reused."""
    AgreementSequence.objects.get_or_create(school_id=school_id, year=year)
    sequence = AgreementSequence.objects.select_for_update(of=("self",)).get(
        school_id=school_id, year=year
    )
    sequence.last += 1
    sequence.save(update_fields=["last"])
    return f"{year}{school_code}{sequence.last:06d}"


def _lock_agreement(agreement: Agreement) -> Agreement:
    Student.objects.select_for_update(of=("self",)).get(pk=agreement.student_id)
    return (
        Agreement.objects.select_for_update(of=("self",))
        .select_related("school", "student__user")
        .get(pk=agreement.pk)
    )


@transaction.atomic
def agreement_approve(
    *,
    agreement: Agreement,
    reviewer: User,
    comment: str = "",
    expected_state: str | None = None,
) -> Agreement:
    """审核通过: the college passes it to the school; the school signs it (签约成功).

    ``expected_state`` is ``decision_state(agreement)`` as the reviewer saw it (views
    always pass it): a decision on an agreement that has moved since is refused.
    """
    agreement = _lock_agreement(agreement)
    check_state(agreement, expected_state)
    require(can_review_agreement(reviewer, agreement))
    before = agreement.status
    url = reverse("agreements:agreement", args=[agreement.pk])
    parties = [agreement.student.user, *agreement.employer.users.all()]
    now = timezone.now()
    if before == Agreement.Status.COLLEGE_REVIEW:
        agreement._college_approve()
        agreement.submitted_at = now
        agreement.save(update_fields=["status", "submitted_at"])
        _audit(agreement, reviewer, "college_approve", before, comment)
        notify(_school_reviewers(agreement), _("A new agreement awaits your review."), url)
        notify(parties, _("The college approved the agreement; the school reviews it next."), url)
        return agreement
    agreement._school_approve()
    agreement.signed_at = now
    agreement.number = next_number(
        agreement.school_id, agreement.school.code, timezone.localdate(now).year
    )
    agreement.save(update_fields=["status", "signed_at", "number"])
    replaced = claim_approve(
        student=agreement.student,
        path=DestinationPath.ONLINE,
        object_id=agreement.pk,
        destination_code=SIGNED_DESTINATION,
    )
    void_replaced_registration(replaced, reviewer)
    _audit(agreement, reviewer, "school_approve", before, comment, number=agreement.number)
    queue_agreement_pdf(agreement)
    notify(
        parties,
        _("Signed successfully (签约成功): agreement %(number)s.") % {"number": agreement.number},
        url,
    )
    return agreement


@transaction.atomic
def agreement_fail(
    *, agreement: Agreement, reviewer: User, reason: str, expected_state: str | None = None
) -> Agreement:
    """审核不通过: 签约失败; the student needs a new invitation to sign again."""
    if not reason.strip():
        raise ValidationError(_("Give the reason."))
    agreement = _lock_agreement(agreement)
    check_state(agreement, expected_state)
    require(can_review_agreement(reviewer, agreement))
    before = agreement.status
    agreement._fail()
    agreement.reason = reason
    agreement.save(update_fields=["status", "reason"])
    claim_release(student=agreement.student, path=DestinationPath.ONLINE, object_id=agreement.pk)
    _audit(agreement, reviewer, "fail", before, reason)
    notify(
        [agreement.student.user, *agreement.employer.users.all()],
        _("The agreement was not approved: %(reason)s") % {"reason": reason},
        reverse("agreements:agreement", args=[agreement.pk]),
    )
    return agreement


# --- termination -------------------------------------------------------------


def _party_of(user: User) -> str:
    return Termination.Party.STUDENT if user.is_student else Termination.Party.EMPLOYER


def _party_users(agreement: Agreement, party: str):
    if party == Termination.Party.STUDENT:
        return [agreement.student.user]
    return list(agreement.employer.users.all())


@transaction.atomic
def termination_request(
    *, agreement: Agreement, user: User, reason: str, document=None
) -> Termination:
    """申请解约 by the student or the employer; the other party answers first."""
    if not reason.strip():
        raise ValidationError(_("Give the reason."))
    agreement = _lock_agreement(agreement)
    require(can_request_termination(user, agreement))
    termination = Termination(agreement=agreement, requested_by=_party_of(user), reason=reason)
    if document:
        termination.document = document
    termination.save()
    _audit(termination, user, "request_termination", "", reason)
    _audit(agreement, user, "request_termination", agreement.status, reason)
    notify(
        _party_users(agreement, termination.other_party),
        _("A termination of agreement %(number)s was requested; please answer.")
        % {"number": agreement.number},
        reverse("agreements:agreement", args=[agreement.pk]),
    )
    return termination


def _lock_termination(termination: Termination) -> Termination:
    _lock_agreement(termination.agreement)
    return (
        Termination.objects.select_for_update(of=("self",))
        .select_related("agreement__student__user")
        .get(pk=termination.pk)
    )


@transaction.atomic
def termination_answer(
    *, termination: Termination, user: User, agree: bool, comment: str = ""
) -> Termination:
    termination = _lock_termination(termination)
    require(can_answer_termination(user, termination))
    before = termination.status
    agreement = termination.agreement
    url = reverse("agreements:agreement", args=[agreement.pk])
    if agree:
        termination._agree()
        termination.submitted_at = timezone.now()
        notify(
            _college_reviewers(agreement),
            _("A termination request awaits your review."),
            url,
        )
    else:
        termination._refuse()
    termination.comment = comment
    termination.save(update_fields=["status", "submitted_at", "comment"])
    _audit(
        termination, user, "agree_termination" if agree else "refuse_termination", before, comment
    )
    notify(
        _party_users(agreement, termination.requested_by),
        _("The other party agreed to terminate; the college reviews it next.")
        if agree
        else _("The other party refused to terminate; the agreement stays in force."),
        url,
    )
    return termination


@transaction.atomic
def termination_approve(
    *,
    termination: Termination,
    reviewer: User,
    comment: str = "",
    expected_state: str | None = None,
) -> Termination:
    """审核通过; at the school stage the agreement becomes 已解约 and the destination is cleared."""
    termination = _lock_termination(termination)
    check_state(termination, expected_state)
    require(can_review_termination(reviewer, termination))
    agreement = Agreement.objects.select_for_update(of=("self",)).get(pk=termination.agreement_id)
    before = termination.status
    url = reverse("agreements:agreement", args=[agreement.pk])
    parties = [*_party_users(agreement, "student"), *_party_users(agreement, "employer")]
    if before == Termination.Status.COLLEGE_REVIEW:
        termination._college_approve()
        termination.submitted_at = timezone.now()
        termination.save(update_fields=["status", "submitted_at"])
        _audit(termination, reviewer, "college_approve", before, comment)
        notify(
            _school_reviewers(agreement),
            _("A termination request awaits your review."),
            url,
        )
        return termination
    termination._school_approve()
    termination.save(update_fields=["status"])
    agreement_before = agreement.status
    agreement._terminate()
    agreement.save(update_fields=["status"])
    claim_release(student=agreement.student, path=DestinationPath.ONLINE, object_id=agreement.pk)
    _audit(termination, reviewer, "school_approve", before, comment)
    _audit(agreement, reviewer, "terminate", agreement_before, comment)
    notify(
        parties,
        _("Agreement %(number)s is terminated (已解约).") % {"number": agreement.number},
        url,
    )
    return termination


@transaction.atomic
def termination_reject(
    *, termination: Termination, reviewer: User, reason: str, expected_state: str | None = None
) -> Termination:
    if not reason.strip():
        raise ValidationError(_("Give the reason."))
    termination = _lock_termination(termination)
    check_state(termination, expected_state)
    require(can_review_termination(reviewer, termination))
    before = termination.status
    termination._reject()
    termination.comment = reason
    termination.save(update_fields=["status", "comment"])
    _audit(termination, reviewer, "fail", before, reason)
    agreement = termination.agreement
    notify(
        [*_party_users(agreement, "student"), *_party_users(agreement, "employer")],
        _("The termination was not approved: %(reason)s") % {"reason": reason},
        reverse("agreements:agreement", args=[agreement.pk]),
    )
    return termination
