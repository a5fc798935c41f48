"""Which recorded changes are webhook events, and what their bodies say.

``on_recorded`` follows the door's ``recorded`` signal (connected in AgreementsConfig.ready):
inside the service's transaction it writes one WebhookDelivery per subscribed endpoint of the
unit, and queues the sending with ``transaction.on_commit``, so a rolled-back change sends
nothing and the action never waits for the network.
"""

import uuid
from typing import Any

from django.conf import settings
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from agreements.online.models import Agreement, Invitation, Termination
from agreements.webhooks.models import WebhookDelivery, WebhookEndpoint, WebhookEvent
from destreg.accounts.models import UnitRole
from destreg.audit.models import AuditEvent

INVITATION_EVENTS: dict[str, WebhookEvent] = {
    Invitation.Status.ACCEPTED: WebhookEvent.INVITATION_ACCEPTED,
    Invitation.Status.DECLINED: WebhookEvent.INVITATION_DECLINED,
    Invitation.Status.EXPIRED: WebhookEvent.INVITATION_EXPIRED,
}
AGREEMENT_EVENTS: dict[str, WebhookEvent] = {
    Agreement.Status.SIGNED: WebhookEvent.AGREEMENT_SIGNED,
    Agreement.Status.FAILED: WebhookEvent.AGREEMENT_FAILED,
}


def event_of(item: Any, event: AuditEvent, before: str) -> tuple[WebhookEvent, int] | None:
    """(webhook event, unit id) for a recorded change, or None when it is no webhook event."""
    if event.to_state == before:
        return None  # an action that changed no state (e.g. a note on a signed agreement)
    if isinstance(item, Invitation) and event.to_state in INVITATION_EVENTS:
        return INVITATION_EVENTS[event.to_state], item.employer_id
    if isinstance(item, Agreement) and event.to_state in AGREEMENT_EVENTS:
        return AGREEMENT_EVENTS[event.to_state], item.employer_id
    if isinstance(item, Termination) and item.agreement_id:
        unit = Agreement.objects.filter(pk=item.agreement_id).values_list("employer_id", flat=True)
        if before == "":
            return WebhookEvent.TERMINATION_REQUESTED, unit.get()
        if event.to_state == Termination.Status.APPROVED:
            return WebhookEvent.TERMINATION_APPROVED, unit.get()
    return None


def data_of(item: Any) -> dict[str, Any]:
    """The item's public fields: ids, numbers and states, never a person's ID number or name."""
    if isinstance(item, Invitation):
        return {"invitation": {"id": item.pk, "status": item.status}}
    if isinstance(item, Agreement):
        verify = reverse("agreements:verify", args=[item.verify_token])
        return {
            "agreement": {
                "id": item.pk,
                "number": item.number or "",
                "status": item.status,
                "invitation_id": item.invitation_id,
                "verification_url": f"{settings.SITE_URL}{verify}",
            }
        }
    if isinstance(item, Termination):
        return {
            "termination": {
                "id": item.pk,
                "status": item.status,
                "requested_by": item.requested_by,
                "agreement_id": item.agreement_id,
            }
        }
    return {}


def payload(event: str, data: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": str(uuid.uuid4()),
        "event": str(event),
        "created_at": timezone.now().isoformat(),
        "data": data,
    }


def queue_deliveries(endpoints: list[WebhookEndpoint], event: str, body: dict) -> list[int]:
    """Write a delivery per endpoint and send them once the transaction commits."""
    ids = [
        WebhookDelivery.objects.create(
            endpoint=endpoint, event=event, payload=body, next_attempt_at=timezone.now()
        ).pk
        for endpoint in endpoints
    ]
    transaction.on_commit(lambda: send_later(ids))
    return ids


def send_later(ids: list[int]) -> None:
    from agreements.webhooks.tasks import deliver_webhook

    for pk in ids:
        deliver_webhook.enqueue(pk)


def on_recorded(sender, item, event: AuditEvent, before: str, **kwargs) -> None:
    found = event_of(item, event, before)
    if found is None:
        return
    name, unit_id = found
    # Like the API keys: an endpoint works while whoever set it up is still an administrator
    # of the unit; a removed or demoted colleague's address hears nothing more.
    live = WebhookEndpoint.objects.filter(
        employer_id=unit_id,
        active=True,
        created_by__is_active=True,
        created_by__employer_id=unit_id,
        created_by__unit_role=UnitRole.ADMIN,
    )
    endpoints = [endpoint for endpoint in live if name in endpoint.events]
    if endpoints:
        queue_deliveries(endpoints, name, payload(name, data_of(item)))
