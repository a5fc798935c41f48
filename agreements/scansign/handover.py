"""A unit that signed through 扫码签约 and registers later sees those agreements in its
portal, but only once its account is verified: registration alone proves nothing (anyone may
claim a credit code), and only one account per code can be verified.

``hand_over_on_verify`` follows the state-change door (destreg.audit.signals.recorded): when
an Employer's verification is recorded, the agreements and invitations of the unregistered
placeholder units of that code move to it, in the verification's transaction. employers may
not import agreements (the layering), hence the signal."""

from typing import Any

from agreements.models import Agreement, Invitation
from destreg.audit.changes import record_event
from destreg.audit.models import AuditAction
from employers.models import Employer


def hand_over(employer: Employer) -> int:
    """Move the placeholder units' agreements and invitations of ``employer``'s code to it
    (it must be verified); returns how many agreements moved."""
    if not employer.is_verified or employer.placeholder:
        return 0
    placeholders = Employer.objects.filter(uscc=employer.uscc, placeholder=True)
    agreements = list(
        Agreement.objects.select_for_update(of=("self",)).filter(employer__in=placeholders)
    )
    busy = Invitation.objects.filter(employer=employer, status=Invitation.Status.PENDING).values(
        "student_id"
    )
    # A pending invitation of the unit's own to the same graduate stays where it is (one
    # pending invitation per unit and graduate); it ends on its own.
    Invitation.objects.filter(employer__in=placeholders).exclude(
        status=Invitation.Status.PENDING, student_id__in=busy
    ).update(employer=employer)
    for agreement in agreements:
        before = agreement.employer_id
        agreement.employer = employer
        agreement.save(update_fields=["employer"])
        record_event(
            agreement,
            by=None,
            action=AuditAction.HAND_OVER_TO_UNIT,
            changes={"from_employer": before, "to_employer": employer.pk},
        )
    return len(agreements)


def hand_over_on_verify(sender: Any, item: Any, event: Any, before: str, **kwargs: Any) -> None:
    if sender is Employer and event.action == AuditAction.VERIFY:
        hand_over(Employer.objects.get(pk=item.pk))
