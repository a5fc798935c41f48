"""Changing one's mind about an approved registration: 申请解约 of an offline e-agreement or
paper agreement (二, 三) and 作废申请 of an other destination (四).

The request is a ``Termination`` (agreements/online/models.py), the same lifecycle as the
termination of an online agreement: the other party answers (the student on the page, the
unit on its portal or through a one-time e-mailed link), then college and school review;
after the school's reporting cut-off the college is skipped. Approved, the registration is
已解约 (已作废) and the student's one destination is free again.

Lock order, as everywhere: Student, then Registration, then Termination, then the link.
"""

from datetime import timedelta
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from agreements import terminations
from agreements.models import Registration, Termination, TerminationLink
from agreements.online import services as online_services
from agreements.online.models import after_reporting_cutoff
from agreements.registrations.permissions import (
    can_answer_registration_termination,
    can_request_registration_termination,
    can_request_void,
    can_withdraw_change,
)
from destreg.accounts.models import Role, User
from destreg.audit.changes import Notice, change_state, record_event
from destreg.audit.models import AuditAction
from destreg.audit.tasks import email_after_commit
from destreg.lib.permissions import require
from employers.models import Employer
from students.coercion import graduate_notice
from students.destinations import claim_release
from students.models import Student

LINK_DAYS = 14
RESEND_AFTER = timedelta(minutes=10)  # a unit asking for its link again waits this long
Party = Termination.Party


def _url(registration: Registration) -> str:
    return reverse("agreements:registration", args=[registration.pk])


def _lock(registration: Registration) -> Registration:
    """The student first (one destination per student), then the registration."""
    Student.objects.select_for_update(of=("self",)).get(pk=registration.student_id)
    return (
        Registration.objects.select_for_update(of=("self",))
        .select_related("student__user", "school")
        .get(pk=registration.pk)
    )


def _lock_change(termination: Termination) -> Termination:
    if termination.registration_id is None:
        raise ValueError("not a request about a registration")
    _lock(termination.registration)  # type: ignore[arg-type]
    return (
        Termination.objects.select_for_update(of=("self",))
        .select_related("registration__student__user", "registration__school")
        .get(pk=termination.pk)
    )


def _units(registration: Registration):
    """The unit the registration names (by credit code), verified for its school."""
    if not registration.unit_uscc:
        return Employer.objects.none()
    return Employer.objects.filter(
        Q(verifications__school=None) | Q(verifications__school_id=registration.school_id),
        verifications__ended_at=None,
        uscc=registration.unit_uscc,
    ).distinct()


def unit_users(registration: Registration) -> list[User]:
    """The active accounts of that unit."""
    return list(
        User.objects.filter(role=Role.EMPLOYER, is_active=True, employer__in=_units(registration))
    )


def has_unit_account(registration: Registration) -> bool:
    return _units(registration).exists()


def _party_users(registration: Registration, party: str) -> list[User]:
    if party == Party.STUDENT:
        return [registration.student.user]
    return unit_users(registration)


def _both_parties(registration: Registration) -> list[User]:
    return [registration.student.user, *unit_users(registration)]


def _email_link(link: TerminationLink, subject: str, body: str, values: dict) -> None:
    """E-mail ``link`` once committed; ``body`` has %(url)s and %(days)d besides ``values``."""
    url = settings.SITE_URL + reverse("agreements:termination_link", args=[link.token])
    email_after_commit(subject, body % (values | {"url": url, "days": LINK_DAYS}), [link.email])


def _new_link(
    registration: Registration, email: str, termination=None, *, end_older: bool = True
) -> TerminationLink:
    """One live link per registration: a new one ends the older ones (unless asked for on
    the public page, where anyone knowing the number could otherwise keep ending the
    unit's link)."""
    if end_older:
        registration.termination_links.filter(used_at=None).update(expires_at=timezone.now())
    return TerminationLink.objects.create(
        registration=registration,
        termination=termination,
        email=email,
        expires_at=timezone.now() + timedelta(days=LINK_DAYS),
    )


def _create(registration: Registration, **fields: Any) -> Termination:
    try:
        with transaction.atomic():
            return Termination.objects.create(registration=registration, **fields)
    except IntegrityError:  # the partial unique index caught a second open request
        raise ValidationError(_("A request is already in progress.")) from None


# --- 申请解约 (paths 二 and 三) -------------------------------------------------


@transaction.atomic
def registration_termination_request(
    *,
    registration: Registration,
    user: User | None = None,
    link: TerminationLink | None = None,
    reason: str,
    document=None,
    unit_email: str = "",
) -> Termination:
    """申请解约 by the student (``user``) or the unit (its account as ``user``, or ``link``,
    a one-time link without a request). The other party is asked: the student on the page,
    the unit on its portal when it has an account, otherwise by an e-mailed one-time link to
    ``unit_email`` (default: the registration's contact e-mail)."""
    if not reason.strip():
        raise ValidationError(_("Give the reason."))
    item = _lock(registration)
    if link is not None:
        link = _use_link(link, item, termination=None)
    require(can_request_registration_termination(user, item, by_link=link is not None))
    by_student = user is not None and user.is_student
    requested_by = Party.STUDENT if by_student else Party.EMPLOYER
    # The reviewed contact address wins: a student must not be able to send the unit's
    # answer link to an address of their own and agree in the unit's name.
    unit_email = (item.contact_email or unit_email).strip()
    if by_student and not has_unit_account(item):
        if not unit_email:
            raise ValidationError(_("Give the unit's e-mail address, so that it can answer."))
        if unit_email.lower() == (item.student.user.email or "").strip().lower():
            raise ValidationError(_("Give the unit's e-mail address, not your own."))
    termination = _create(
        item,
        requested_by=requested_by,
        reason=reason,
        **({"document": document} if document else {}),
    )
    url = _url(item)
    if by_student:
        notices = [
            Notice(
                unit_users(item),
                gettext_lazy("%(name)s asks to terminate your agreement; please answer."),
                reverse("agreements:unit_registrations"),
                {"name": item.student.real_name},
            ),
            graduate_notice(
                item.student.user,
                gettext_lazy("You asked to terminate your agreement; the unit answers next."),
                url,
            ),
        ]
    else:
        notices = [
            graduate_notice(
                item.student.user,
                gettext_lazy("The unit asks to terminate your agreement; please answer."),
                url,
            )
        ]
    record_event(
        termination,
        created=True,
        by=user,
        action=AuditAction.REQUEST_TERMINATION,
        comment=reason,
        notify=notices,
    )
    record_event(
        item,
        by=user,
        action=AuditAction.REQUEST_TERMINATION,
        comment=reason if user is not None else " ".join([_("through the unit's link"), reason]),
    )
    if by_student and not has_unit_account(item):
        answer = _new_link(item, unit_email, termination)
        _email_link(
            answer,
            _("A graduate asks to terminate an employment agreement"),
            _(
                "%(student)s asks to terminate the employment agreement with your unit.\n\n"
                "Reason: %(reason)s\n\n"
                "Open this link to agree or refuse (valid for %(days)d days, once):\n%(url)s"
            ),
            {"student": item.student.real_name, "reason": reason},
        )
        record_event(item, by=user, action=AuditAction.SEND_TERMINATION_LINK, comment=answer.email)
    return termination


def _use_link(
    link: TerminationLink, item: Registration, *, termination: Termination | None
) -> TerminationLink:
    """Lock ``link`` and spend it, or refuse when it is not a live link for this."""
    link = TerminationLink.objects.select_for_update(of=("self",)).get(pk=link.pk)
    if (
        not link.usable
        or link.registration_id != item.pk
        or link.termination_id != (termination.pk if termination else None)
    ):
        raise ValidationError(_("This link has expired or was already used."))
    link.used_at = timezone.now()
    link.save(update_fields=["used_at"])
    return link


@transaction.atomic
def registration_termination_answer(
    *,
    termination: Termination,
    agree: bool,
    comment: str = "",
    user: User | None = None,
    link: TerminationLink | None = None,
) -> Termination:
    """The other party agrees (the college reviews next; after the cut-off, the school) or
    refuses (the agreement stays in force). The unit answers with its account as ``user``
    or through ``link``."""
    termination = _lock_change(termination)
    item: Registration = termination.registration  # type: ignore[assignment]
    if link is not None:
        _use_link(link, item, termination=termination)

    def may(by, change: Termination):
        return can_answer_registration_termination(by, change, by_link=link is not None)

    # The answer shows in the registration's history too, where reviewers read it.
    record_event(
        item,
        by=user,
        action=AuditAction.AGREE_TERMINATION if agree else AuditAction.REFUSE_TERMINATION,
        comment=comment
        if user is not None
        else " ".join([_("through the unit's link"), comment]).strip(),
    )
    return terminations.answer(
        termination,
        by=user,
        may=may,
        agree=agree,
        comment=comment,
        school_id=item.school_id,
        tell=_party_users(item, termination.requested_by),
        url=_url(item),
    )


@transaction.atomic
def registration_change_withdraw(*, termination: Termination, user: User) -> Termination:
    """撤回申请 of a termination or void request by the party who asked; the other party
    (none for a void request) is told, and a link e-mailed for the answer ends."""
    termination = _lock_change(termination)
    item: Registration = termination.registration  # type: ignore[assignment]
    record_event(item, by=user, action=AuditAction.WITHDRAW, comment=termination.reason)
    return terminations.withdraw(
        termination,
        by=user,
        may=can_withdraw_change,
        tell=[] if termination.is_void_request else _party_users(item, termination.other_party),
        url=_url(item),
    )


@transaction.atomic
def termination_link_send(*, registration: Registration, email: str) -> TerminationLink | None:
    """A unit without an account asks to terminate: a one-time link goes to the contact
    e-mail the registration names, and only if ``email`` is that address (the page says
    the same whatever happened, so it tells nobody who signed what)."""
    item = _lock(registration)
    if not item.contact_email or email.strip().lower() != item.contact_email.strip().lower():
        return None
    if not can_request_registration_termination(None, item, by_link=True):
        return None
    if item.termination_links.filter(
        termination=None, created_at__gt=timezone.now() - RESEND_AFTER
    ).exists():
        return None  # one e-mail per interval: the page cannot flood the unit's mailbox
    link = _new_link(item, item.contact_email, end_older=False)
    _email_link(
        link,
        _("Apply for termination of an employment agreement"),
        _(
            "You asked to terminate the employment agreement %(number)s with %(student)s.\n\n"
            "Open this link to give the reason (valid for %(days)d days, once):\n%(url)s"
        ),
        {"number": item.number, "student": item.student.real_name},
    )
    record_event(item, by=None, action=AuditAction.SEND_TERMINATION_LINK, comment=link.email)
    return link


# --- 作废申请 (path 四) ---------------------------------------------------------


@transaction.atomic
def void_request(*, registration: Registration, user: User, reason: str) -> Termination:
    """作废申请: the student gives up an approved other destination (e.g. the 升学 fell
    through). Nobody else answers: the request goes to the college (after the reporting
    cut-off, to the school)."""
    if not reason.strip():
        raise ValidationError(_("Give the reason."))
    item = _lock(registration)
    require(can_request_void(user, item))
    late = after_reporting_cutoff(item.school_id)
    status = Termination.Status.SCHOOL_REVIEW if late else Termination.Status.COLLEGE_REVIEW
    # Created in its first state, like an accepted agreement: the door's record_event
    # queues it for the stage's reviewers.
    termination = _create(
        item, requested_by=Party.STUDENT, reason=reason, status=status, after_cutoff=late
    )
    record_event(
        termination,
        created=True,
        by=user,
        action=AuditAction.REQUEST_VOID,
        comment=reason,
        notify=[
            graduate_notice(
                item.student.user,
                gettext_lazy(
                    "You asked to void your other destination; the school reviews it next."
                )
                if late
                else gettext_lazy(
                    "You asked to void your other destination; the college reviews it next."
                ),
                _url(item),
            )
        ],
    )
    record_event(item, by=user, action=AuditAction.REQUEST_VOID, comment=reason)
    return termination


# --- review: one pair of services for every change of mind --------------------


@transaction.atomic
def change_approve(
    *, termination: Termination, reviewer: User, comment: str = "", expected_state=None
) -> Termination:
    """审核通过. At the school stage the registration becomes 已解约 (已作废) and the
    student's destination is free again. Online terminations go to their own service."""
    if termination.registration_id is None:
        return online_services.termination_approve(
            termination=termination,
            reviewer=reviewer,
            comment=comment,
            expected_state=expected_state,
        )
    termination = _lock_change(termination)
    item: Registration = termination.registration  # type: ignore[assignment]
    if not terminations.approve(
        termination, reviewer=reviewer, comment=comment, expected_state=expected_state
    ):
        return termination
    if termination.is_void_request:
        change_state(
            item,
            Registration._void,
            by=reviewer,
            may=None,  # follows from the request the reviewer was allowed to approve
            action=AuditAction.VOID,
            comment=comment,
            notify=[
                graduate_notice(
                    item.student.user,
                    gettext_lazy("Your other destination is void; you may register another."),
                    _url(item),
                )
            ],
        )
    else:
        change_state(
            item,
            Registration._terminate,
            by=reviewer,
            may=None,  # follows from the termination the reviewer was allowed to approve
            action=AuditAction.TERMINATE,
            comment=comment,
            notify=[
                graduate_notice(
                    item.student.user,
                    gettext_lazy("The agreement of %(name)s with %(unit)s is terminated."),
                    _url(item),
                    {"name": item.student.real_name, "unit": item.unit_name},
                    others=unit_users(item),
                )
            ],
        )
    claim_release(student=item.student, path=item.path, object_id=item.pk)
    return termination


@transaction.atomic
def change_reject(
    *, termination: Termination, reviewer: User, reason: str, expected_state=None
) -> Termination:
    """审核不通过: the agreement or destination stays in force."""
    if termination.registration_id is None:
        return online_services.termination_reject(
            termination=termination, reviewer=reviewer, reason=reason, expected_state=expected_state
        )
    termination = _lock_change(termination)
    item: Registration = termination.registration  # type: ignore[assignment]
    return terminations.reject(
        termination,
        reviewer=reviewer,
        reason=reason,
        expected_state=expected_state,
        tell=[item.student.user] if termination.is_void_request else _both_parties(item),
        message=gettext_lazy("The request was not approved: %(reason)s"),
        url=_url(item),
    )
