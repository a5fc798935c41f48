"""A unit's webhook endpoints and the deliveries made to them."""

import uuid
from datetime import timedelta

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from destreg.lib.pii import decrypt_secret
from employers.models import Employer


class WebhookEvent(models.TextChoices):
    """What a unit may subscribe to; the values are the ``event`` its HR system receives."""

    INVITATION_ACCEPTED = "invitation.accepted", _("Invitation accepted")
    INVITATION_DECLINED = "invitation.declined", _("Invitation declined")
    INVITATION_EXPIRED = "invitation.expired", _("Invitation expired")
    AGREEMENT_SIGNED = "agreement.signed", _("Agreement signed")
    AGREEMENT_FAILED = "agreement.failed", _("Signing failed")
    TERMINATION_REQUESTED = "termination.requested", _("Termination requested")
    TERMINATION_APPROVED = "termination.approved", _("Termination approved")
    # Sent on request from the portal, whatever the endpoint subscribed to.
    TEST = "webhook.test", _("Test event")


SUBSCRIBABLE = [choice for choice in WebhookEvent.choices if choice[0] != WebhookEvent.TEST]

# The waits after each failed try: 7 tries spanning about a day, then given up.
BACKOFF = [
    timedelta(minutes=1),
    timedelta(minutes=5),
    timedelta(minutes=30),
    timedelta(hours=2),
    timedelta(hours=6),
    timedelta(hours=16),
]
MAX_ATTEMPTS = len(BACKOFF) + 1


class WebhookEndpoint(models.Model):
    """An address of the unit's HR system that receives the events it chose."""

    employer = models.ForeignKey(
        Employer,
        verbose_name=_("employer"),
        on_delete=models.CASCADE,
        related_name="webhook_endpoints",
    )
    url = models.URLField(_("endpoint URL"), max_length=500)
    events = models.JSONField(_("events"), default=list)
    # Fernet ciphertext (destreg/lib/pii.py): the secret signs every delivery, so it is kept
    # (not hashed), and shown only when it is made.
    secret_cipher = models.TextField(editable=False)
    active = models.BooleanField(_("active"), default=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("last changed"), auto_now=True)
    secret_rotated_at = models.DateTimeField(_("secret made at"), auto_now_add=True)

    class Meta:
        verbose_name = _("webhook endpoint")
        verbose_name_plural = _("webhook endpoints")
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return self.url

    @property
    def secret(self) -> str:
        return decrypt_secret(self.secret_cipher)

    def event_labels(self) -> list[str]:
        return [str(WebhookEvent(name).label) for name in self.events if name in WebhookEvent]


class DeliveryStatus(models.TextChoices):
    PENDING = "pending", _("Pending")
    SUCCEEDED = "succeeded", _("Delivered")
    FAILED = "failed", _("Failed, will retry")
    GIVEN_UP = "given_up", _("Given up")


class WebhookDelivery(models.Model):
    """One event for one endpoint, tried until the endpoint answers 2xx or the tries run out."""

    Status = DeliveryStatus
    OPEN = (DeliveryStatus.PENDING, DeliveryStatus.FAILED)

    endpoint = models.ForeignKey(
        WebhookEndpoint, on_delete=models.CASCADE, related_name="deliveries"
    )
    # X-Destreg-Delivery: this delivery; a resend is a new delivery of the same event.
    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    event = models.CharField(_("event"), max_length=40, choices=WebhookEvent.choices)
    # The body's fields, ``id`` (the event's, the same for every resend) included.
    payload = models.JSONField(default=dict)
    status = models.CharField(
        _("status"), max_length=10, choices=DeliveryStatus.choices, default=DeliveryStatus.PENDING
    )
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    next_attempt_at = models.DateTimeField(_("next attempt"), null=True, blank=True)
    last_attempt_at = models.DateTimeField(_("last attempt"), null=True, blank=True)
    response_code = models.PositiveSmallIntegerField(_("response code"), null=True, blank=True)
    last_error = models.CharField(_("error"), max_length=200, blank=True)
    # The times of the tries, oldest first (ISO 8601): the backoff as it happened.
    attempt_times = models.JSONField(default=list)
    resent_from = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("webhook delivery")
        verbose_name_plural = _("webhook deliveries")
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["status", "next_attempt_at"])]

    def __str__(self) -> str:
        return f"{self.event} → {self.endpoint_id} ({self.status})"
