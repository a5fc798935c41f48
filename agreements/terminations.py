"""The steps every termination shares, whatever it ends: an online agreement
(agreements/online/services.py) or an approved registration (agreements/registrations/
changes.py). The callers lock, name the people to tell and end what was terminated; the
request's own lifecycle (answer, college, school, reject) is written here once."""

from collections.abc import Callable
from typing import Any

from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from agreements.models import Termination
from agreements.online.models import after_reporting_cutoff
from agreements.online.permissions import can_review_termination
from destreg.accounts.models import User
from destreg.audit.changes import Notice, change_state
from destreg.audit.models import AuditAction
from students.coercion import graduate_notice


def _graduate(termination: Termination) -> User:
    """The graduate whose destination the request would end."""
    subject: Any = termination.agreement or termination.registration
    return subject.student.user


def _graduate_url(termination: Termination) -> str:
    if termination.agreement_id:
        return reverse("agreements:agreement", args=[termination.agreement_id])
    return reverse("agreements:registration", args=[termination.registration_id])


def _told(termination: Termination, tell: list[User], message: Any, url: str, params=None):
    """``message`` for ``tell``; the graduate, among them or not, gets it with their
    这不是我本人的意愿 link (every step of a termination changes their destination)."""
    graduate = _graduate(termination)
    return graduate_notice(
        graduate, message, url, params, others=[user for user in tell if user.pk != graduate.pk]
    )


def answer(
    termination: Termination,
    *,
    by: User | None,
    may: Callable,
    agree: bool,
    comment: str,
    school_id: int,
    tell: list[User],
    url: str,
) -> Termination:
    """The other party agrees (the college reviews next; after the school's reporting
    cut-off, the school) or refuses (what was signed stays in force); ``tell`` is the
    requester's side."""
    if not agree:
        return change_state(
            termination,
            Termination._refuse,
            by=by,
            may=may,
            action=AuditAction.REFUSE_TERMINATION,
            comment=comment,
            values={"comment": comment},
            notify=_answer_notices(
                termination,
                tell,
                url,
                gettext_lazy("The other party refused to terminate; the agreement stays in force."),
                gettext_lazy("You refused to terminate; the agreement stays in force."),
            ),
        )
    late = after_reporting_cutoff(school_id)
    return change_state(
        termination,
        Termination._agree_after_cutoff if late else Termination._agree,
        by=by,
        may=may,
        action=AuditAction.AGREE_TERMINATION,
        comment=comment,
        values={"comment": comment, "submitted_at": timezone.now(), "after_cutoff": late},
        notify=_answer_notices(
            termination,
            tell,
            url,
            gettext_lazy("The other party agreed to terminate; the school reviews it next.")
            if late
            else gettext_lazy("The other party agreed to terminate; the college reviews it next."),
            gettext_lazy("You agreed to terminate; the school reviews it next.")
            if late
            else gettext_lazy("You agreed to terminate; the college reviews it next."),
        ),
    )


def _answer_notices(
    termination: Termination, tell: list[User], url: str, to_requester: Any, to_graduate: Any
) -> list[Notice]:
    """The requester's side is told the answer; the graduate who answered is told their own
    answer (with the 这不是我本人的意愿 link)."""
    graduate = _graduate(termination)
    if any(user.pk == graduate.pk for user in tell):
        return [_told(termination, tell, to_requester, url)]
    return [Notice(tell, to_requester, url), graduate_notice(graduate, to_graduate, url)]


def approve(
    termination: Termination, *, reviewer: User, comment: str, expected_state: str | None
) -> bool:
    """审核通过 of the request itself: the college passes it to the school, or the school
    approves it. True when the school approved: the caller then ends what it terminates."""
    if termination.status == Termination.Status.COLLEGE_REVIEW:
        change_state(
            termination,
            Termination._college_approve,
            by=reviewer,
            may=can_review_termination,
            expected_state=expected_state,
            action=AuditAction.COLLEGE_APPROVE,
            comment=comment,
            values={"submitted_at": timezone.now()},
            notify=[
                graduate_notice(
                    _graduate(termination),
                    gettext_lazy(
                        "The college approved the termination; the school reviews it next."
                    ),
                    _graduate_url(termination),
                )
            ],
        )
        return False
    change_state(
        termination,
        Termination._school_approve,
        by=reviewer,
        may=can_review_termination,
        expected_state=expected_state,
        action=AuditAction.SCHOOL_APPROVE,
        comment=comment,
    )
    return True


def reject(
    termination: Termination,
    *,
    reviewer: User,
    reason: str,
    expected_state: str | None,
    tell: list[User],
    message: Any,
    url: str,
) -> Termination:
    """审核不通过, with the reason (required): what was signed stays in force. ``message``
    is a lazy (untranslated) sentence with a %(reason)s placeholder."""
    if not reason.strip():
        raise ValidationError(_("Give the reason."))
    return change_state(
        termination,
        Termination._reject,
        by=reviewer,
        may=can_review_termination,
        expected_state=expected_state,
        action=AuditAction.FAIL,
        comment=reason,
        values={"comment": reason},
        notify=[_told(termination, tell, message, url, {"reason": reason})],
    )


def withdraw(
    termination: Termination, *, by: User, may: Callable, tell: list[User], url: str
) -> Termination:
    """撤回申请: the requester takes back a request nobody has decided yet (above all one the
    other party never answers). What was signed stays in force; the request's live
    one-time links end with it, and a new request may be made."""
    termination = change_state(
        termination,
        Termination._withdraw,
        by=by,
        may=may,
        action=AuditAction.WITHDRAW,
        notify=[
            Notice(
                tell,
                gettext_lazy("The void request was withdrawn; the destination stays in force.")
                if termination.is_void_request
                else gettext_lazy("The termination was withdrawn; the agreement stays in force."),
                url,
            )
        ],
    )
    termination.links.filter(used_at=None).update(expires_at=timezone.now())
    return termination
