"""Writes of a unit's webhook endpoints; each checks the permission, is audited and returns
what the page shows (a new secret is returned once, never stored in clear)."""

import secrets
from typing import Any

from django.db import transaction
from django.utils import timezone

from agreements.webhooks.events import payload, queue_deliveries
from agreements.webhooks.models import WebhookDelivery, WebhookEndpoint, WebhookEvent
from agreements.webhooks.permissions import (
    can_manage_endpoint,
    can_manage_webhooks,
    can_resend_delivery,
)
from agreements.webhooks.sending import check_url
from destreg.audit.changes import record_event
from destreg.audit.models import AuditAction
from destreg.lib.permissions import require
from destreg.lib.pii import encrypt_secret


def new_secret() -> str:
    return "whsec_" + secrets.token_urlsafe(32)


@transaction.atomic
def webhook_endpoint_create(
    *, user: Any, url: str, events: list[str], active: bool = True
) -> tuple[WebhookEndpoint, str]:
    """A new endpoint of the user's unit; returns it and its secret (shown this once)."""
    require(can_manage_webhooks(user))
    check_url(url)
    secret = new_secret()
    endpoint = WebhookEndpoint.objects.create(
        employer_id=user.employer_id,
        url=url,
        events=_known(events),
        active=active,
        secret_cipher=encrypt_secret(secret),
        created_by=user,
    )
    record_event(
        endpoint,
        by=user,
        action=AuditAction.WEBHOOK_CREATE,
        created=True,
        changes={"url": url, "events": endpoint.events},
    )
    return endpoint, secret


@transaction.atomic
def webhook_endpoint_update(
    *, user: Any, endpoint: WebhookEndpoint, url: str, events: list[str], active: bool
) -> WebhookEndpoint:
    endpoint = WebhookEndpoint.objects.select_for_update().get(pk=endpoint.pk)
    require(can_manage_endpoint(user, endpoint))
    check_url(url)
    endpoint.url, endpoint.events, endpoint.active = url, _known(events), active
    endpoint.save(update_fields=["url", "events", "active", "updated_at"])
    record_event(
        endpoint,
        by=user,
        action=AuditAction.WEBHOOK_CHANGE,
        changes={"url": url, "events": endpoint.events, "active": active},
    )
    return endpoint


@transaction.atomic
def webhook_endpoint_rotate_secret(*, user: Any, endpoint: WebhookEndpoint) -> str:
    """A new secret replaces the old one at once (tries from now on are signed with it)."""
    endpoint = WebhookEndpoint.objects.select_for_update().get(pk=endpoint.pk)
    require(can_manage_endpoint(user, endpoint))
    secret = new_secret()
    endpoint.secret_cipher = encrypt_secret(secret)
    endpoint.secret_rotated_at = timezone.now()
    endpoint.save(update_fields=["secret_cipher", "secret_rotated_at", "updated_at"])
    record_event(endpoint, by=user, action=AuditAction.WEBHOOK_ROTATE_SECRET)
    return secret


@transaction.atomic
def webhook_endpoint_delete(*, user: Any, endpoint: WebhookEndpoint) -> None:
    """Delete the endpoint with its delivery log; nothing more is sent to it."""
    endpoint = WebhookEndpoint.objects.select_for_update().get(pk=endpoint.pk)
    require(can_manage_endpoint(user, endpoint))
    record_event(
        endpoint, by=user, action=AuditAction.WEBHOOK_DELETE, changes={"url": endpoint.url}
    )
    endpoint.delete()


@transaction.atomic
def webhook_endpoint_send_test(*, user: Any, endpoint: WebhookEndpoint) -> WebhookDelivery:
    """A ``webhook.test`` event to this endpoint, whatever it subscribed to."""
    require(can_manage_endpoint(user, endpoint))
    body = payload(WebhookEvent.TEST, {"endpoint": {"id": endpoint.pk}})
    (pk,) = queue_deliveries([endpoint], WebhookEvent.TEST, body)
    return WebhookDelivery.objects.get(pk=pk)


@transaction.atomic
def webhook_delivery_resend(*, user: Any, delivery: WebhookDelivery) -> WebhookDelivery:
    """重新发送: the same event (same body, same ``id``) as a new delivery, tried at once."""
    require(can_resend_delivery(user, delivery))
    (pk,) = queue_deliveries([delivery.endpoint], delivery.event, delivery.payload)
    WebhookDelivery.objects.filter(pk=pk).update(resent_from=delivery)
    record_event(
        delivery.endpoint,
        by=user,
        action=AuditAction.WEBHOOK_RESEND,
        changes={"delivery": str(delivery.uuid), "event": delivery.event},
    )
    return WebhookDelivery.objects.get(pk=pk)


def _known(events: list[str]) -> list[str]:
    subscribable = {name for name in WebhookEvent.values if name != WebhookEvent.TEST}
    return [name for name in WebhookEvent.values if name in set(events) & subscribable]
