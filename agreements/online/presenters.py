"""Page data of an agreement, shared by the parties' pages and the reviewers' (``reviews``)."""

from typing import Any, NamedTuple

from django.utils.functional import Promise

from agreements.models import Agreement, Termination
from agreements.online.forms import TerminationRequestForm
from agreements.online.permissions import can_answer_termination, can_request_termination
from destreg.accounts.models import User
from destreg.audit.models import AuditEvent


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
        "unit_name": agreement.employer.name,
        "unit_uscc": agreement.employer.uscc,
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
        "shown": agreement_status(agreement),
        "failed": agreement.status == Agreement.Status.FAILED,
        "preview": agreement_preview(agreement),
        "record": agreement.student.record,
        "show_full_id": user.is_student,
        "terminations": terminations,
        "open_termination": open_termination,
        "can_terminate": can_request_termination(user, agreement),
        "can_answer_termination": (
            can_answer_termination(user, open_termination) if open_termination else None
        ),
        "events": AuditEvent.objects.timeline(agreement),
        "termination_form": TerminationRequestForm(),
    }
