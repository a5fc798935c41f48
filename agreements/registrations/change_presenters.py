"""Page data of 申请解约 / 作废申请 on a registration's page (the student's and the
reviewers'), the unit's portal list and the unit's one-time link page."""

from django.db.models import Q

from agreements.models import Registration, Termination
from agreements.online.forms import TerminationAnswerForm
from agreements.registrations.change_forms import RegistrationTerminationForm, VoidRequestForm
from agreements.registrations.changes import has_unit_account
from agreements.registrations.permissions import (
    can_answer_registration_termination,
    can_request_registration_termination,
    can_request_void,
    can_withdraw_change,
    is_unit_of,
)
from destreg.accounts.models import User


def change_context(user: User, item: Registration, form=None) -> dict:
    """The requests about ``item``, the open one, and what ``user`` may do about them."""
    changes = list(item.terminations.all())
    open_change = next((t for t in changes if t.status in Termination.OPEN), None)
    may_void = can_request_void(user, item)
    may_terminate = can_request_registration_termination(user, item)
    if form is None and may_void:
        form = VoidRequestForm()
    elif form is None and may_terminate:
        form = RegistrationTerminationForm(
            ask_unit_email=user.is_student and not has_unit_account(item),
            initial={"unit_email": item.contact_email},
        )
    return {
        "changes": changes,
        "open_change": open_change,
        # What ended the registration (已解约 / 已作废), if a request did.
        "ended_by": next((t for t in changes if t.status == Termination.Status.APPROVED), None),
        "can_request_termination": may_terminate,
        "can_request_void": may_void,
        "can_answer_change": (
            can_answer_registration_termination(user, open_change) if open_change else None
        ),
        "can_withdraw_change": can_withdraw_change(user, open_change) if open_change else None,
        "change_form": form,
        "answer_form": TerminationAnswerForm(),
        "answer_link": item.termination_links.filter(termination__isnull=False)
        .order_by("-created_at")
        .first()
        if open_change
        else None,
        "is_unit": is_unit_of(user, item),
    }


def unit_rows(user: User, *, form_for: int | None = None, form=None) -> list[dict]:
    """The unit's portal: its approved (or ended) offline and paper agreements, each with
    its open request, what the unit may do, and its request form (``form``, with the
    errors it came back with, for registration ``form_for``)."""
    employer = user.employer
    if employer is None or not employer.is_verified:
        return []
    verifications = employer.verifications.current()
    registrations = (
        Registration.objects.filter(
            # Verification is per school: only the schools a verification covers.
            Q()
            if verifications.filter(school=None).exists()
            else Q(school_id__in=verifications.values("school_id")),
            unit_uscc=employer.uscc,
            path__in=[Registration.Path.OFFLINE, Registration.Path.PAPER],
            status__in=[Registration.Status.APPROVED, Registration.Status.TERMINATED],
        )
        .select_related("student", "school")
        .prefetch_related("terminations")
        .order_by("-signed_at", "-pk")[:100]
    )
    rows = []
    for item in registrations:
        changes = list(item.terminations.all())
        open_change = next((t for t in changes if t.status in Termination.OPEN), None)
        may_request = can_request_registration_termination(user, item)
        if item.pk == form_for and form is not None:
            row_form = form
        else:
            row_form = RegistrationTerminationForm(auto_id=f"id_%s_{item.pk}")
        rows.append(
            {
                "item": item,
                "open_change": open_change,
                "can_request": may_request,
                "form": row_form if may_request else None,
                "can_answer": (
                    can_answer_registration_termination(user, open_change) if open_change else None
                ),
                "can_withdraw": can_withdraw_change(user, open_change) if open_change else None,
            }
        )
    return rows
