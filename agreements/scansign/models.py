"""扫码签约: a graduate asks a unit that is not on the platform to sign online. The unit's
contact gets a one-time link (and the graduate shows its QR code), confirms the credit code,
fills the unit's details and the terms; that becomes an invitation from an unregistered
(placeholder) unit, which the graduate accepts like any other."""

import hashlib
import secrets

from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django_fsm import FSMField, FSMModelMixin, transition

from agreements.online.models import Invitation
from students.models import Student


class UnitSigningStatus(models.TextChoices):
    PENDING = "pending", _("Waiting for the unit")
    CONFIRMED = "confirmed", _("Confirmed by the unit")
    DECLINED = "declined", _("Declined by the unit")
    CANCELLED = "cancelled", _("Cancelled")
    EXPIRED = "expired", _("Expired")


class UnitSigningRequest(FSMModelMixin, models.Model):
    """One 扫码签约 request: the unit as the graduate named it and its one-time link (only the
    token's digest is stored). Confirmed, it points to the invitation it became."""

    Status = UnitSigningStatus
    DAYS = 7

    student = models.ForeignKey(
        Student,
        verbose_name=_("student"),
        on_delete=models.PROTECT,
        related_name="unit_signing_requests",
    )
    unit_name = models.CharField(_("unit name"), max_length=100)
    unit_uscc = models.CharField(_("unified social credit code"), max_length=18)
    contact_name = models.CharField(_("contact person"), max_length=50)
    contact_email = models.EmailField(_("contact e-mail"))
    token_digest = models.CharField(max_length=64, unique=True, editable=False)
    expires_at = models.DateTimeField(_("link valid until"))
    last_sent_at = models.DateTimeField(_("link sent at"))
    status = FSMField(
        _("status"),
        max_length=10,
        choices=Status.choices,
        default=Status.PENDING,
        protected=True,
    )
    invitation = models.OneToOneField(
        Invitation,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="unit_request",
    )
    created_at = models.DateTimeField(_("requested at"), auto_now_add=True)
    answered_at = models.DateTimeField(_("answered at"), null=True, blank=True)

    class Meta:
        verbose_name = _("scan-to-sign request")
        verbose_name_plural = _("scan-to-sign requests")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["student"],
                condition=Q(status=UnitSigningStatus.PENDING),
                name="one_pending_unit_signing_request_per_student",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.unit_name} → {self.student}"

    def get_absolute_url(self) -> str:
        return reverse("agreements:unit_request", args=[self.pk])

    @staticmethod
    def new_token() -> tuple[str, str]:
        """A fresh link token and its digest (the token itself is never stored)."""
        token = secrets.token_urlsafe(32)
        return token, UnitSigningRequest.digest(token)

    @staticmethod
    def digest(token: str) -> str:
        return hashlib.sha256(token.encode()).hexdigest()

    @property
    def is_overdue(self) -> bool:
        return self.expires_at <= timezone.now()

    @property
    def shown_status(self) -> str:
        if self.status == self.Status.PENDING and self.is_overdue:
            return self.Status.EXPIRED
        return self.status

    def get_shown_status_display(self) -> str:
        return str(self.Status(self.shown_status).label)

    @transition(field=status, source=Status.PENDING, target=Status.CONFIRMED)
    def _confirm(self) -> None:
        """The unit confirmed its code, details and terms: an invitation was made."""

    @transition(field=status, source=Status.PENDING, target=Status.DECLINED)
    def _decline(self) -> None:
        """The unit declined (拒绝)."""

    @transition(field=status, source=Status.PENDING, target=Status.CANCELLED)
    def _cancel(self) -> None:
        """The graduate cancelled (取消)."""

    @transition(field=status, source=Status.PENDING, target=Status.EXPIRED)
    def _expire(self) -> None:
        """The link's validity passed unanswered."""
