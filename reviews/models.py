"""Export jobs: a large export runs in the background and shows how far it got."""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class ExportJob(models.Model):
    class Status(models.TextChoices):
        QUEUED = "queued", _("Queued")
        RUNNING = "running", _("Running")
        DONE = "done", _("Done")
        FAILED = "failed", _("Failed")

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="exports"
    )
    fmt = models.CharField(max_length=4, choices=[("csv", "CSV"), ("xlsx", "XLSX")])
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.QUEUED)
    total = models.PositiveIntegerField(default=0)
    done = models.PositiveIntegerField(default=0)
    file = models.FileField(upload_to="exports/", blank=True)
    # As of a snapshot; live when empty.
    snapshot = models.ForeignKey(
        "Snapshot", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.fmt} export #{self.pk} ({self.status})"

    @property
    def percent(self) -> int:
        return int(100 * self.done / self.total) if self.total else 0


# --- reporting cut-offs and their snapshots -------------------------------------------------

# The reporting dates (month, day) of a graduating class when its school set none.
DEFAULT_REPORTING_DATES = ((6, 30), (8, 31), (12, 31))


class ReportingDate(models.Model):
    """A cut-off at which the school reports its graduates' destinations: a snapshot of the
    class of ``graduation_year`` is taken once the day is over (``take_snapshots``). A school
    without rows for a year has the defaults (DEFAULT_REPORTING_DATES of that year)."""

    school = models.ForeignKey(
        "reference.School",
        verbose_name=_("school"),
        on_delete=models.CASCADE,
        related_name="reporting_dates",
    )
    graduation_year = models.PositiveSmallIntegerField(_("graduation year"))
    cutoff = models.DateField(_("reporting date"))

    class Meta:
        verbose_name = _("reporting date")
        verbose_name_plural = _("reporting dates")
        ordering = ["school", "cutoff"]
        constraints = [
            models.UniqueConstraint(
                fields=["school", "graduation_year", "cutoff"], name="reporting_date_unique"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.school_id} {self.graduation_year} {self.cutoff}"


class Snapshot(models.Model):
    """Every graduate's destination of one class of one school as it stood at a cut-off.

    Append-only: the database refuses UPDATE, DELETE and TRUNCATE of this table and of
    its rows (triggers of migration 0003), so a figure reported as of a cut-off can be
    produced again, identically, at any later time."""

    school = models.ForeignKey(
        "reference.School", verbose_name=_("school"), on_delete=models.PROTECT, related_name="+"
    )
    graduation_year = models.PositiveSmallIntegerField(_("graduation year"))
    cutoff = models.DateField(_("reporting date"))
    taken_at = models.DateTimeField(_("taken at"))

    class Meta:
        verbose_name = _("snapshot")
        verbose_name_plural = _("snapshots")
        ordering = ["-cutoff", "-pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["school", "graduation_year", "cutoff"], name="snapshot_once_per_cutoff"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.school_id} {self.graduation_year} {self.cutoff}"


def _frozen_reference(model: str, **options) -> models.ForeignKey:
    """A reference kept by id only: no database constraint and nothing done on delete, so
    neither a record nor a code table row removed later can touch a snapshot."""
    return models.ForeignKey(
        model,
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        related_name="+",
        **options,
    )


class SnapshotRow(models.Model):
    """One graduate in a snapshot: the national export's row (``export``, keyed by the
    export's column headings, so columns added to the export later flow into later
    snapshots) and what the statistics group by."""

    snapshot = models.ForeignKey(Snapshot, on_delete=models.DO_NOTHING, related_name="rows")
    record = _frozen_reference("students.RegistryRecord")
    student_no = models.CharField(max_length=30)
    college = _frozen_reference("reference.College")
    major = _frozen_reference("reference.Major")
    education_level = _frozen_reference("reference.Code")
    gender = models.PositiveSmallIntegerField()
    destination = _frozen_reference("reference.Code", null=True)
    destination_code = models.CharField(max_length=8, blank=True)
    placed = models.BooleanField()
    export = models.JSONField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["snapshot", "record"], name="snapshot_row_once"),
        ]
        indexes = [models.Index(fields=["snapshot", "college"])]

    def __str__(self) -> str:
        return f"{self.snapshot_id}:{self.student_no}"
