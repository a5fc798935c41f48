"""Page data of an agreement, shared by the parties' pages and the reviewers' (``reviews``)."""

from agreements.models import Agreement, Termination
from agreements.online.forms import TerminationRequestForm
from agreements.online.permissions import can_answer_termination, can_request_termination
from destreg.accounts.models import User
from destreg.audit.models import AuditEvent


def agreement_context(user: User, agreement: Agreement) -> dict:
    """What every page showing an agreement needs (students, employers and reviewers)."""
    terminations = list(agreement.terminations.all())
    open_termination = next((t for t in terminations if t.status in Termination.OPEN), None)
    return {
        "agreement": agreement,
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
