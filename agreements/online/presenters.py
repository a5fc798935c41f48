"""Page data of an agreement, shared by the parties' pages and the reviewers' (``reviews``),
and the graduate's open items of online signing (their home page)."""

from typing import Any, NamedTuple

from django.urls import reverse
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from agreements.models import Agreement, Invitation, Registration, Termination
from agreements.online.forms import TerminationRequestForm
from agreements.online.permissions import (
    can_answer_invitation,
    can_answer_termination,
    can_request_termination,
)
from agreements.registrations.permissions import can_withdraw_change
from agreements.scansign.marks import scan_sign_mark
from destreg.accounts.models import User
from destreg.audit.models import AuditEvent
from students import home
from students.home import OpenItem
from students.models import Student


class ShownStatus(NamedTuple):
    """A status as a page shows it: ``{% badge status.state status.label %}``."""

    state: str
    label: str | Promise  # lazy where it is made once for every reader


# 签约成功: how every signing path shows a signing in force, whatever table it lives in.
SIGNED = ShownStatus(Agreement.Status.SIGNED, Agreement.Status.SIGNED.label)  # lazy: per reader


def agreement_status(agreement: Agreement) -> ShownStatus:
    if agreement.status == Agreement.Status.SIGNED:
        return SIGNED
    return ShownStatus(agreement.status, agreement.get_status_display())


def agreement_preview(agreement: Agreement) -> dict[str, Any]:
    """协议书预览 (agreements/includes/preview.html): the parties and the terms."""
    return {
        "number": agreement.number,
        "student": agreement.student,
        "unit_name": agreement.unit_name or agreement.employer.name,
        "unit_uscc": agreement.unit_uscc or agreement.employer.uscc,
        "school": agreement.school,
        "terms": agreement,
        "paper": None,
    }


def agreement_context(user: User, agreement: Agreement) -> dict:
    """What every page showing an agreement needs (students, employers and reviewers)."""
    terminations = list(agreement.terminations.all())
    open_termination = next((t for t in terminations if t.status in Termination.OPEN), None)
    return {
        "agreement": agreement,
        # 扫码签约: the unit had no account and confirmed through its one-time link.
        "by_unit_link": agreement.invitation.by_unit_link,
        # What reviewers are told about it: the platform cannot prove who confirmed.
        "scan_sign": (
            scan_sign_mark(agreement)
            if agreement.invitation.by_unit_link and (user.is_reviewer or user.is_platform_admin)
            else None
        ),
        "shown": agreement_status(agreement),
        "failed": agreement.status == Agreement.Status.FAILED,
        "found_untrue": agreement.status == Agreement.Status.FOUND_UNTRUE,
        "preview": agreement_preview(agreement),
        "record": agreement.student.record,
        "show_full_id": user.is_student,
        "terminations": terminations,
        "open_termination": open_termination,
        "can_terminate": can_request_termination(user, agreement),
        "can_answer_termination": (
            can_answer_termination(user, open_termination) if open_termination else None
        ),
        "can_withdraw_termination": (
            can_withdraw_change(user, open_termination) if open_termination else None
        ),
        "events": AuditEvent.objects.timeline(agreement),
        "termination_form": TerminationRequestForm(),
    }


# --- the graduate's home page (students/home.py) ------------------------------


def student_open_items(student: Student) -> list[OpenItem]:
    """Online signing on the graduate's home page: invitations they may answer (until their
    deadline), a termination waiting for their answer, and agreements and terminations under
    review. Registered in AgreementsConfig.ready; the door forgets the home page when any of
    them changes (destreg/invalidation.py)."""
    user = student.user
    items = []
    invitations = list(Invitation.objects.live().filter(student=student).select_related("employer"))
    # live(): each is pending and before its deadline, so what else decides whether the
    # graduate may answer is about the graduate alone: asked once, not once per invitation.
    answerable = bool(invitations) and can_answer_invitation(user, invitations[0])
    for invitation in invitations if answerable else []:
        items.append(
            OpenItem(
                rank=home.ANSWER_BY_DEADLINE,
                title=_("Signing invitation to answer"),
                subject=f"{invitation.employer.name} · {invitation.position}",
                url=reverse("agreements:invitation", args=[invitation.pk]),
                action=_("Accept or decline"),
                deadline=invitation.deadline,
                since=invitation.created_at,
            )
        )
    agreements = Agreement.objects.filter(
        student=student, status__in=Agreement.REVIEW.statuses()
    ).select_related("employer")
    for agreement in agreements:
        items.append(
            OpenItem(
                rank=home.WAITING,
                title=_("Online agreement"),
                label=Agreement.Status(agreement.status).label,
                subject=agreement.employer.name,
                url=agreement.get_absolute_url(),
                since=agreement.submitted_at,
            )
        )
    terminations = Termination.objects.filter(
        agreement__student=student, status__in=Termination.OPEN
    ).select_related("agreement__employer")
    for termination in terminations:
        employer = termination.agreement.employer.name  # type: ignore[union-attr]
        if can_answer_termination(user, termination):
            items.append(
                OpenItem(
                    rank=home.ANSWER,
                    title=_("Termination request to answer"),
                    subject=employer,
                    note=termination.reason,
                    note_label=_("Reason for terminating"),
                    url=termination.get_absolute_url(),
                    action=_("Answer"),
                    since=termination.created_at,
                )
            )
        else:
            items.append(
                OpenItem(
                    rank=home.WAITING,
                    title=_("Termination request"),
                    label=Termination.Status(termination.status).label,
                    subject=employer,
                    url=termination.get_absolute_url(),
                    since=termination.submitted_at,
                )
            )
    return items


def termination_home_keys(termination: Termination) -> list[str]:
    """The home page a termination shows on: its graduate's (destreg/invalidation.py)."""
    # Exactly one is set (termination_of_an_agreement_or_a_registration).
    subjects = (
        Agreement.objects.filter(pk=termination.agreement_id)
        if termination.agreement_id is not None
        else Registration.objects.filter(pk=termination.registration_id)  # type: ignore[misc]
    )
    student_id = subjects.values_list("student_id", flat=True).first()
    return [home.home_cache_key(student_id)] if student_id else []
