"""An uploaded list of graduates to invite (``InvitationBatch``) and its rows.

A row keeps the ID number only as the project keeps it elsewhere: a Fernet ciphertext (for
the send, deleted once the row is sent or refused), an HMAC digest (duplicates, lookup) and
the masked form the pages and the result file show.
"""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from agreements.online.models import Invitation, TermTemplate
from employers.models import Employer


class BatchStatus(models.TextChoices):
    DRAFT = "draft", _("Awaiting sending")
    QUEUED = "queued", _("Queued")
    SENDING = "sending", _("Sending")
    DONE = "done", _("Sent")
    FAILED = "failed", _("Failed")


class InvitationBatch(models.Model):
    """One uploaded file: previewed as a draft, sent once (发送) by a background task."""

    Status = BatchStatus

    employer = models.ForeignKey(
        Employer,
        verbose_name=_("employer"),
        on_delete=models.CASCADE,
        related_name="invitation_batches",
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    sent_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", null=True
    )
    template = models.ForeignKey(
        TermTemplate,
        verbose_name=_("terms template"),
        on_delete=models.SET_NULL,
        null=True,
        related_name="+",
    )
    template_name = models.CharField(_("terms template"), max_length=50)
    # The template's terms as they were at upload (attnames; dates as ISO text): what the
    # preview showed is what is sent, even if the template changes meanwhile.
    terms = models.JSONField(default=dict)
    validity_days = models.PositiveSmallIntegerField(null=True, blank=True)
    filename = models.CharField(_("file"), max_length=200)
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.DRAFT
    )
    row_count = models.PositiveIntegerField(_("rows"), default=0)
    valid_count = models.PositiveIntegerField(_("rows that can be invited"), default=0)
    sent_count = models.PositiveIntegerField(_("invitations sent"), default=0)
    refused_count = models.PositiveIntegerField(_("rows not sent"), default=0)
    created_at = models.DateTimeField(_("uploaded at"), auto_now_add=True)
    queued_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)

    class Meta:
        verbose_name = _("invitation batch")
        verbose_name_plural = _("invitation batches")
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["employer", "created_at"])]

    def __str__(self) -> str:
        return self.filename

    @property
    def in_progress(self) -> bool:
        return self.status in (BatchStatus.QUEUED, BatchStatus.SENDING)

    @property
    def done_count(self) -> int:
        return self.sent_count + self.refused_count

    @property
    def progress(self) -> int:
        return round(100 * self.done_count / self.valid_count) if self.valid_count else 100


class RowCheck(models.TextChoices):
    """A row's preview answer."""

    VALID = "valid", _("Can be invited")
    NO_MATCH = "no_match", _("No current graduate who can sign matches this name and ID number.")
    LIVE = "live", _("You already have a live invitation to this graduate.")
    DUPLICATE = "duplicate", _("The same person is on an earlier row of the file.")
    INVALID = "invalid", _("The row has errors")


class RowResult(models.TextChoices):
    PENDING = "", _("Not sent")
    SENT = "sent", _("Sent")
    REFUSED = "refused", _("Not sent")


class InvitationBatchRow(models.Model):
    Check = RowCheck
    Result = RowResult

    batch = models.ForeignKey(InvitationBatch, on_delete=models.CASCADE, related_name="rows")
    line = models.PositiveIntegerField(_("row"))  # the spreadsheet's row number
    name = models.CharField(_("name"), max_length=50)
    id_number_masked = models.CharField(_("ID number"), max_length=18)
    id_number_cipher = models.TextField(blank=True, editable=False)  # emptied once sent
    id_number_digest = models.CharField(max_length=64, blank=True, editable=False)
    overrides = models.JSONField(default=dict)  # per-row terms (position, work_location, …)
    preview = models.CharField(max_length=10, choices=RowCheck.choices)
    problems = models.JSONField(default=list)  # the translated format errors of the row
    result = models.CharField(max_length=10, choices=RowResult.choices, blank=True, default="")
    message = models.CharField(max_length=300, blank=True)  # the send's refusal, if any
    invitation = models.ForeignKey(
        Invitation, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        ordering = ["batch", "line"]
        constraints = [
            models.UniqueConstraint(fields=["batch", "line"], name="one_batch_row_per_line")
        ]

    def __str__(self) -> str:
        return f"{self.batch_id}:{self.line}"
