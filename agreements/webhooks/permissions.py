"""Who may see and change a unit's webhooks: its users see the endpoints and their delivery
logs; its administrators add, change, delete them, rotate secrets, send test events and
resend deliveries. To anyone else another unit's endpoints do not exist (404)."""

from typing import Any

from django.utils.translation import gettext as _

from agreements.webhooks.models import WebhookDelivery, WebhookEndpoint
from destreg.lib.permissions import ALLOW, Decision, deny, load_for


def can_view_webhooks(user: Any) -> Decision:
    if not (user.is_authenticated and user.is_employer and user.employer_id):
        return deny(_("Only employers have webhooks."))
    return ALLOW


def can_manage_webhooks(user: Any) -> Decision:
    decision = can_view_webhooks(user)
    if not decision:
        return decision
    if not user.is_unit_admin:
        return deny(_("Only the unit's administrators manage webhooks."))
    if not user.employer.is_verified:
        return deny(_("Your unit is waiting for verification; you can add webhooks once verified."))
    return ALLOW


def can_view_endpoint(user: Any, endpoint: WebhookEndpoint) -> Decision:
    decision = can_view_webhooks(user)
    if not decision:
        return decision
    if endpoint.employer_id != user.employer_id:
        return deny(_("Not found."), visible=False)
    return ALLOW


def can_manage_endpoint(user: Any, endpoint: WebhookEndpoint) -> Decision:
    decision = can_view_endpoint(user, endpoint)
    if not decision:
        return decision
    return can_manage_webhooks(user)


def can_resend_delivery(user: Any, delivery: WebhookDelivery) -> Decision:
    return can_manage_endpoint(user, delivery.endpoint)


def get_endpoint_for(user: Any, pk: int) -> WebhookEndpoint:
    return load_for(user, WebhookEndpoint.objects.all(), pk, can_view_endpoint)


def get_delivery_for(user: Any, pk: int) -> WebhookDelivery:
    return load_for(
        user,
        WebhookDelivery.objects.select_related("endpoint"),
        pk,
        lambda user, delivery: can_view_endpoint(user, delivery.endpoint),
    )
