"""Writes for online signing. Each service is one transaction; every state change goes
through the door (destreg/audit/changes.py: lock, permission, transition, save, audit,
review queue, caches, notifications).

Lock order, to keep concurrent requests from deadlocking: Student, then
Invitation or Agreement, then Termination.
"""

from collections.abc import Iterable
from datetime import datetime, time, timedelta
from functools import partial
from typing import cast

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Q, QuerySet
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from agreements import terminations
from agreements.approval import SIGNED_DESTINATION, destination_approve, signed_values
from agreements.models import (
    Agreement,
    Invitation,
    Termination,
    Terms,
    TermTemplate,
)
from agreements.online.permissions import (
    can_answer_invitation,
    can_answer_termination,
    can_invite,
    can_invite_graduate_of,
    can_manage_term_templates,
    can_request_termination,
    can_review_agreement,
    unit_still_verified,
)
from agreements.registrations.permissions import can_withdraw_change
from agreements.tasks import render_agreement
from agreements.terms import terms_problems
from destreg.accounts.models import User
from destreg.audit.changes import Notice, change_state, record_event
from destreg.audit.models import AuditAction
from destreg.lib.permissions import Decision, require
from destreg.lib.pii import id_number_digest
from destreg.reference.models import School
from employers.models import Employer
from students.coercion import graduate_notice
from students.destinations import claim_release, claim_start
from students.models import (
    DestinationPath,
    RegistryRecord,
    Student,
    current_graduation_year,
)

# Terms copied from an invitation to its agreement (foreign keys by id).
TERMS_FIELDS = [field.attname for field in Terms._meta.fields]


def _lock_student(student_id: int) -> Student:
    """The student is locked first (one signing per student), then the item."""
    return Student.objects.select_for_update(of=("self",)).get(pk=student_id)


# --- invitations -------------------------------------------------------------


def invitable_students() -> QuerySet[Student]:
    """Current-year graduates who passed the first-login check: who may be invited at all
    (the batch preview looks many up at once through this same rule)."""
    return Student.objects.filter(
        confirmed_at__isnull=False, record__graduation_year=current_graduation_year()
    )


def find_invitable_student(name: str, id_number: str) -> Student | None:
    """A current-year graduate who passed the first-login check, by name and ID number."""
    return (
        invitable_students()
        .filter(id_number_digest=id_number_digest(id_number), real_name=name)
        .select_related("record__school", "user")
        .first()
    )


def _expire(invitation: Invitation) -> None:
    change_state(
        invitation,
        Invitation._expire,
        by=None,
        may=None,  # the deadline passed: the system's own move
        action=AuditAction.EXPIRE,
        notify=[
            Notice(
                invitation.employer.users.all(),
                gettext_lazy("Your invitation to %(name)s expired without an answer."),
                reverse("agreements:invitation", args=[invitation.pk]),
                {"name": invitation.student.real_name},
            )
        ],
    )


class InvitableLookup:
    """What ``invitation_send`` looks up, done ahead for many graduates at once (a batch):
    the invitable students among ``id_numbers`` in one query, and the sender's scope decision
    once per school. The rules stay ``invitation_send``'s; only the reading is shared."""

    def __init__(self, sender: User, id_numbers: Iterable[str]) -> None:
        self.sender = sender
        digests = {id_number_digest(id_number) for id_number in id_numbers}
        self.students = {
            student.id_number_digest: student
            for student in invitable_students()
            .filter(id_number_digest__in=digests)
            .select_related("record")
        }
        self._schools: dict[int | None, Decision] = {}

    def student(self, name: str, id_number: str) -> Student | None:
        student = self.students.get(id_number_digest(id_number))
        return student if student is not None and student.real_name == name else None

    def may_invite_graduate_of(self, school_id: int | None) -> Decision:
        if school_id not in self._schools:
            self._schools[school_id] = can_invite_graduate_of(self.sender, school_id)
        return self._schools[school_id]


@transaction.atomic
def invitation_send(
    *,
    sender: User,
    name: str,
    id_number: str,
    terms: dict,
    deadline: datetime | None = None,
    lookup: InvitableLookup | None = None,
) -> Invitation:
    """Invite a graduate. The error never says whether the person exists.

    ``lookup`` (made for this ``sender``) answers the reads ahead of the lock from what it
    loaded for many graduates at once; the graduate is checked again under the lock."""
    require(can_invite(sender))
    if problems := terms_problems(terms):
        raise ValidationError(list(problems.values()))
    employer_id = cast(int, sender.employer_id)  # can_invite checked it is set
    if lookup is not None and lookup.sender is not sender:
        raise ValueError("the lookup was made for another sender")
    student = lookup.student(name, id_number) if lookup else find_invitable_student(name, id_number)
    school_id = student.record.school_id if student else None  # type: ignore[union-attr]
    may = lookup.may_invite_graduate_of if lookup else partial(can_invite_graduate_of, sender)
    # A graduate of a school the unit is not verified for gets the same answer as nobody.
    locked = (
        invitable_students()
        .select_for_update(of=("self",))
        .select_related("record__school", "user")
        .filter(pk=student.pk)
        .first()
        if student is not None and may(school_id)
        else None
    )
    if locked is None:
        raise ValidationError(
            _("No current graduate who can sign matches this name and ID number.")
        )
    student = locked
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
        employer=cast(Employer, sender.employer),
        student=student,
        sent_by=sender,
        deadline=deadline,
        **terms,
    )
    record_event(
        invitation,
        created=True,
        by=sender,
        action=AuditAction.INVITE,
        notify=[
            Notice(
                [student.user],
                gettext_lazy("%(employer)s invites you to sign an employment agreement."),
                reverse("agreements:invitation", args=[invitation.pk]),
                {"employer": invitation.employer.name},
            )
        ],
    )
    return invitation


@transaction.atomic
def invitation_accept(*, invitation: Invitation, user: User) -> Agreement:
    """接受: the invitation becomes an agreement awaiting the college's review, while the
    unit is still verified for the graduate's school (a unit that changed its name or
    credit code is verified again before its invitations can be accepted)."""
    _lock_student(invitation.student_id)
    require(unit_still_verified(user, invitation))
    change_state(
        invitation,
        Invitation._accept,
        by=user,
        may=can_answer_invitation,
        action=AuditAction.ACCEPT,
        values={"answered_at": timezone.now()},
    )
    record: RegistryRecord = user.student.record  # type: ignore[assignment]
    try:
        with transaction.atomic():
            agreement = Agreement.objects.create(
                invitation=invitation,
                student_id=invitation.student_id,
                employer_id=invitation.employer_id,
                unit_name=invitation.employer.name,
                unit_uscc=invitation.employer.uscc,
                school_id=record.school_id,
                college_id=record.college_id,
                **{name: getattr(invitation, name) for name in TERMS_FIELDS},
            )
    except IntegrityError:
        # The partial unique index caught a second signing the locks did not.
        raise ValidationError(_("You already have an agreement under review or signed.")) from None
    claim_start(student=user.student, path=DestinationPath.ONLINE, object_id=agreement.pk)
    url = reverse("agreements:agreement", args=[agreement.pk])
    record_event(
        agreement,
        created=True,
        by=user,
        action=AuditAction.ACCEPT,
        notify=[
            Notice(
                invitation.employer.users.all(),
                gettext_lazy("%(name)s accepted your invitation; the college reviews it next."),
                url,
                {"name": invitation.student.real_name},
            ),
        ],
    )
    return agreement


@transaction.atomic
def invitation_decline(*, invitation: Invitation, user: User) -> Invitation:
    """拒绝, within the validity period."""
    _lock_student(invitation.student_id)
    return change_state(
        invitation,
        Invitation._decline,
        by=user,
        may=can_answer_invitation,
        action=AuditAction.DECLINE,
        values={"answered_at": timezone.now()},
        notify=[
            Notice(
                invitation.employer.users.all(),
                gettext_lazy("%(name)s declined your invitation."),
                reverse("agreements:invitation", args=[invitation.pk]),
                {"name": invitation.student.real_name},
            )
        ],
    )


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


def _lock_agreement(agreement: Agreement) -> Agreement:
    _lock_student(agreement.student_id)
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
    url = reverse("agreements:agreement", args=[agreement.pk])
    employer_users = list(agreement.employer.users.all())
    if agreement.status == Agreement.Status.COLLEGE_REVIEW:
        return change_state(
            agreement,
            Agreement._college_approve,
            by=reviewer,
            may=can_review_agreement,
            expected_state=expected_state,
            action=AuditAction.COLLEGE_APPROVE,
            comment=comment,
            values={"submitted_at": timezone.now()},
            notify=[
                graduate_notice(
                    agreement.student.user,
                    gettext_lazy("The college approved the agreement; the school reviews it next."),
                    url,
                    others=employer_users,
                ),
            ],
        )
    change_state(
        agreement,
        Agreement._school_approve,
        by=reviewer,
        may=can_review_agreement,
        expected_state=expected_state,
        action=AuditAction.SCHOOL_APPROVE,
        comment=comment,
        values=signed_values,
        notify=[
            graduate_notice(
                agreement.student.user,
                gettext_lazy("Signed successfully: agreement %(number)s."),
                url,
                lambda item: {"number": item.number},  # numbered by signed_values
                others=employer_users,
            )
        ],
    )
    destination_approve(
        student=agreement.student,
        path=DestinationPath.ONLINE,
        object_id=agreement.pk,
        destination_code=SIGNED_DESTINATION,
        by=reviewer,
    )
    queue_agreement_pdf(agreement)
    return agreement


@transaction.atomic
def agreement_fail(
    *, agreement: Agreement, reviewer: User, reason: str, expected_state: str | None = None
) -> Agreement:
    """审核不通过: 签约失败; the student needs a new invitation to sign again."""
    if not reason.strip():
        raise ValidationError(_("Give the reason."))
    agreement = _lock_agreement(agreement)
    change_state(
        agreement,
        Agreement._fail,
        by=reviewer,
        may=can_review_agreement,
        expected_state=expected_state,
        action=AuditAction.FAIL,
        comment=reason,
        values={"reason": reason},
        notify=[
            graduate_notice(
                agreement.student.user,
                gettext_lazy("The agreement was not approved: %(reason)s"),
                reverse("agreements:agreement", args=[agreement.pk]),
                {"reason": reason},
                others=agreement.employer.users.all(),
            )
        ],
    )
    claim_release(student=agreement.student, path=DestinationPath.ONLINE, object_id=agreement.pk)
    return agreement


# --- termination -------------------------------------------------------------


def _agreement_of(termination: Termination) -> Agreement:
    """The agreement of an online termination (registrations have their own services:
    agreements/registrations/changes.py)."""
    if termination.agreement is None:
        raise ValueError("not a termination of an online agreement")
    return termination.agreement


def _party_of(user: User) -> str:
    return Termination.Party.STUDENT if user.is_student else Termination.Party.EMPLOYER


def _party_users(agreement: Agreement, party: str):
    if party == Termination.Party.STUDENT:
        return [agreement.student.user]
    return list(agreement.employer.users.all())


def _both_parties(agreement: Agreement) -> list:
    return [
        *_party_users(agreement, Termination.Party.STUDENT),
        *_party_users(agreement, Termination.Party.EMPLOYER),
    ]


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
    url = reverse("agreements:agreement", args=[agreement.pk])
    number = {"number": agreement.number}
    asked = gettext_lazy("A termination of agreement %(number)s was requested; please answer.")
    # The graduate hears of every step, with the 这不是我本人的意愿 link: asked to answer,
    # or told of their own request (made by somebody else with their account?).
    if termination.other_party == Termination.Party.STUDENT:
        notices = [graduate_notice(agreement.student.user, asked, url, number)]
    else:
        notices = [
            Notice(_party_users(agreement, termination.other_party), asked, url, number),
            graduate_notice(
                agreement.student.user,
                gettext_lazy("You asked to terminate agreement %(number)s; the unit answers next."),
                url,
                number,
            ),
        ]
    record_event(
        termination,
        created=True,
        by=user,
        action=AuditAction.REQUEST_TERMINATION,
        comment=reason,
        notify=notices,
    )
    record_event(agreement, by=user, action=AuditAction.REQUEST_TERMINATION, comment=reason)
    return termination


def _lock_termination(termination: Termination) -> Termination:
    _lock_agreement(_agreement_of(termination))
    return (
        Termination.objects.select_for_update(of=("self",))
        .select_related("agreement__student__user")
        .get(pk=termination.pk)
    )


@transaction.atomic
def termination_answer(
    *, termination: Termination, user: User, agree: bool, comment: str = ""
) -> Termination:
    """The other party agrees (the college reviews next) or refuses (nothing changes)."""
    termination = _lock_termination(termination)
    agreement = _agreement_of(termination)
    return terminations.answer(
        termination,
        by=user,
        may=can_answer_termination,
        agree=agree,
        comment=comment,
        school_id=agreement.school_id,
        tell=_party_users(agreement, termination.requested_by),
        url=reverse("agreements:agreement", args=[agreement.pk]),
    )


@transaction.atomic
def termination_withdraw(*, termination: Termination, user: User) -> Termination:
    """撤回申请 by the party who asked; the other party is told."""
    termination = _lock_termination(termination)
    agreement = _agreement_of(termination)
    return terminations.withdraw(
        termination,
        by=user,
        may=can_withdraw_change,
        tell=_party_users(agreement, termination.other_party),
        url=reverse("agreements:agreement", args=[agreement.pk]),
    )


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
    agreement = _agreement_of(termination)
    if not terminations.approve(
        termination, reviewer=reviewer, comment=comment, expected_state=expected_state
    ):
        return termination
    url = reverse("agreements:agreement", args=[agreement.pk])
    change_state(
        agreement,
        Agreement._terminate,
        by=reviewer,
        may=None,  # follows from the termination the reviewer was allowed to approve
        action=AuditAction.TERMINATE,
        comment=comment,
        notify=[
            graduate_notice(
                agreement.student.user,
                gettext_lazy("Agreement %(number)s is terminated."),
                url,
                {"number": agreement.number},
                others=agreement.employer.users.all(),
            )
        ],
    )
    claim_release(student=agreement.student, path=DestinationPath.ONLINE, object_id=agreement.pk)
    return termination


@transaction.atomic
def termination_reject(
    *, termination: Termination, reviewer: User, reason: str, expected_state: str | None = None
) -> Termination:
    """审核不通过: the agreement stays in force."""
    termination = _lock_termination(termination)
    agreement = _agreement_of(termination)
    return terminations.reject(
        termination,
        reviewer=reviewer,
        reason=reason,
        expected_state=expected_state,
        tell=_both_parties(agreement),
        message=gettext_lazy("The termination was not approved: %(reason)s"),
        url=reverse("agreements:agreement", args=[agreement.pk]),
    )


# --- terms templates -------------------------------------------------------------------------


@transaction.atomic
def term_template_save(
    *, user: User, values: dict, template: TermTemplate | None = None
) -> TermTemplate:
    """Create or change a unit's terms template; the name is unique within the unit."""
    require(can_manage_term_templates(user, template))
    if template is None:
        template = TermTemplate(employer_id=cast(int, user.employer_id))  # checked above
    for name, value in values.items():
        setattr(template, name, value)
    template.updated_by = user
    try:
        with transaction.atomic():
            template.save()
    except IntegrityError:
        raise ValidationError(
            {"name": _("Your unit already has a template of this name.")}
        ) from None
    return template


@transaction.atomic
def term_template_delete(*, user: User, template: TermTemplate) -> None:
    """Delete a template; invitations sent from it keep their own copy of the terms."""
    require(can_manage_term_templates(user, template))
    template.delete()
