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
    # The scope it was made for (reviews.stats.scope_of): the user's role then, and the
    # province, school or college that role covered (none: the country). The file is
    # served only while this is still the user's scope.
    role = models.CharField(max_length=20, blank=True)
    province = models.ForeignKey(
        "reference.Region", null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    school = models.ForeignKey(
        "reference.School", null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    college = models.ForeignKey(
        "reference.College", null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            # Each one streams up to every graduate of the country through a worker.
            models.UniqueConstraint(
                fields=["user"],
                condition=models.Q(status__in=["queued", "running"]),
                name="one_export_in_progress_per_user",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.fmt} export #{self.pk} ({self.status})"

    @property
    def scope(self) -> dict[str, object]:
        """The scope it was made for, in the shape of ``reviews.stats.scope_of``."""
        return {
            "role": self.role,
            "province_id": self.province_id,
            "school_id": self.school_id,
            "college_id": self.college_id,
        }

    @property
    def percent(self) -> int:
        return int(100 * self.done / self.total) if self.total else 0


class Method(models.TextChoices):
    CALL_UNIT = "call_unit", _("Call to the unit")
    CALL_GRADUATE = "call_graduate", _("Call to the graduate")
    DOCUMENTS = "documents", _("Document check")


class Outcome(models.TextChoices):
    CONFIRMED = "confirmed", _("Confirmed")
    NOT_REACHABLE = "not_reachable", _("Not reachable")
    NOT_TRUE = "not_true", _("Not true")


class VerificationSample(models.Model):
    """就业核查: a random sample of a school's graduates with an approved destination,
    stratified by college × destination type, drawn with ``seed`` so the same seed over the
    same population draws the same graduates again (reviews/verification.py)."""

    school = models.ForeignKey(
        "reference.School", verbose_name=_("school"), on_delete=models.PROTECT, related_name="+"
    )
    # Only this college's graduates; every college of the school when blank.
    college = models.ForeignKey(
        "reference.College",
        verbose_name=_("college"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    year = models.PositiveSmallIntegerField(_("graduation year"))
    percentage = models.PositiveSmallIntegerField(_("percentage"))
    seed = models.BigIntegerField(_("seed"))
    population = models.PositiveIntegerField(_("graduates with an approved destination"))
    drawn_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("drawn by"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    created_at = models.DateTimeField(_("drawn at"), auto_now_add=True)

    class Meta:
        verbose_name = _("verification sample")
        verbose_name_plural = _("verification samples")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(percentage__gte=1, percentage__lte=100),
                name="sample_percentage_1_to_100",
            )
        ]

    def __str__(self) -> str:
        return f"{self.year} · {self.percentage}% · {self.seed}"


class VerificationItem(models.Model):
    """One sampled graduate: the approved destination checked (an online agreement or a
    registration), the verifier assigned, and the latest check's outcome."""

    sample = models.ForeignKey(VerificationSample, on_delete=models.CASCADE, related_name="items")
    student = models.ForeignKey(
        "students.Student",
        verbose_name=_("graduate"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    # Copied when drawn, so scopes and strata are plain filters.
    school = models.ForeignKey("reference.School", on_delete=models.PROTECT, related_name="+")
    college = models.ForeignKey(
        "reference.College",
        verbose_name=_("college"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    destination = models.ForeignKey(
        "reference.Code",
        verbose_name=_("graduate destination"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    agreement = models.ForeignKey(
        "agreements.Agreement",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    registration = models.ForeignKey(
        "agreements.Registration",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    verifier = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("verifier"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="verification_items",
    )
    assigned_at = models.DateTimeField(_("assigned at"), null=True, blank=True)
    outcome = models.CharField(_("outcome"), max_length=20, blank=True)
    checked_at = models.DateTimeField(_("checked at"), null=True, blank=True)

    class Meta:
        verbose_name = _("sampled graduate")
        verbose_name_plural = _("sampled graduates")
        ordering = ["college_id", "destination_id", "id"]
        constraints = [
            models.UniqueConstraint(fields=["sample", "student"], name="one_item_per_graduate"),
            models.CheckConstraint(
                condition=models.Q(agreement__isnull=False, registration__isnull=True)
                | models.Q(agreement__isnull=True, registration__isnull=False),
                name="item_of_an_agreement_or_a_registration",
            ),
        ]
        indexes = [models.Index(fields=["verifier", "checked_at"])]

    def __str__(self) -> str:
        return f"{self.sample_id}: {self.student_id}"

    @property
    def source(self):
        """The approved destination that was sampled."""
        return self.agreement if self.agreement_id else self.registration

    @property
    def closed(self) -> bool:
        """Confirmed or found not true: nothing more to check."""
        return self.outcome in (Outcome.CONFIRMED, Outcome.NOT_TRUE)

    def get_outcome_display(self) -> str:
        return str(Outcome(self.outcome).label) if self.outcome else ""


class VerificationCheck(models.Model):
    """One check of a sampled graduate: how, what came of it, notes, who and when. A check
    that found the destination not true keeps the approved version (``approved``)."""

    item = models.ForeignKey(VerificationItem, on_delete=models.CASCADE, related_name="checks")
    method = models.CharField(_("method"), max_length=20, choices=Method.choices)
    outcome = models.CharField(_("outcome"), max_length=20, choices=Outcome.choices)
    notes = models.TextField(_("notes"), blank=True)
    checked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("checked by"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    created_at = models.DateTimeField(_("checked at"), auto_now_add=True)
    approved = models.JSONField(_("approved version"), default=dict, blank=True)

    class Meta:
        verbose_name = _("verification check")
        verbose_name_plural = _("verification checks")
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return f"{self.item_id}: {self.outcome}"


class AnnualReport(models.Model):
    """A draft 就业质量年度报告 of one school's graduating class, rendered to PDF in the
    background (reviews/annual_report.py); ``progress`` runs from 0 to 100."""

    class Status(models.TextChoices):
        QUEUED = "queued", _("Queued")
        RUNNING = "running", _("Running")
        DONE = "done", _("Done")
        FAILED = "failed", _("Failed")

    school = models.ForeignKey(
        "reference.School",
        verbose_name=_("school"),
        on_delete=models.CASCADE,
        related_name="annual_reports",
    )
    year = models.PositiveSmallIntegerField(_("graduation year"))
    # When the figures were counted, language-free as printed on the cover: the time the
    # live data was read (a snapshot's cut-off once reports are drawn from snapshots).
    as_of = models.CharField(_("as of"), max_length=100, blank=True)
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.QUEUED
    )
    progress = models.PositiveSmallIntegerField(_("progress"), default=0)
    file = models.FileField(upload_to="reports/", blank=True)
    # As of a reporting snapshot of the class; from the live data when empty.
    snapshot = models.ForeignKey(
        "Snapshot",
        verbose_name=_("as of the snapshot"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("requested by"),
        on_delete=models.SET_NULL,
        null=True,
        related_name="+",
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)

    class Meta:
        verbose_name = _("annual employment quality report")
        verbose_name_plural = _("annual employment quality reports")
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["school", "-created_at"])]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(progress__lte=100), name="annual_report_progress_max_100"
            ),
            # Drawing one up takes seconds of a worker's time: one at a time per school.
            models.UniqueConstraint(
                fields=["school"],
                condition=models.Q(status__in=["queued", "running"]),
                name="one_annual_report_in_progress_per_school",
            ),
        ]

    def __str__(self) -> str:
        return f"annual report {self.year} #{self.pk} ({self.status})"

    @property
    def in_progress(self) -> bool:
        return self.status in (self.Status.QUEUED, self.Status.RUNNING)


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


# Free mailbox providers: a unit whose only contact is such an address (and no landline) is
# one of the 核查 page's red flags (reviews/flags.py).
PUBLIC_MAIL_DOMAINS = (
    "qq.com foxmail.com 163.com 126.com yeah.net 139.com 189.cn sina.com sina.cn sohu.com "
    "aliyun.com gmail.com outlook.com hotmail.com live.com yahoo.com icloud.com"
)


class VerificationSettings(models.Model):
    """A school's thresholds for the 核查 page's red flags (edited in the admin).

    A school without a row uses the defaults (``for_school``): a destination share of 15 %,
    or 10 points above the college's share last year; 10 graduates at one unit; a contact
    shared by 2 units; a proof file used by 2 graduates; 5 approvals by one reviewer each
    less than 30 seconds after the one before.
    """

    school = models.OneToOneField(
        "reference.School",
        verbose_name=_("school"),
        on_delete=models.CASCADE,
        related_name="verification_settings",
    )
    share_percent = models.PositiveSmallIntegerField(
        _("largest share of a destination (%)"),
        default=15,
        help_text=_(
            "Freelance, own business and other hiring above this share of a college's graduates."
        ),
    )
    share_growth_points = models.PositiveSmallIntegerField(
        _("largest rise over last year (percentage points)"),
        default=10,
        help_text=_("The same destinations this many points above the college's share last year."),
    )
    unit_graduates = models.PositiveIntegerField(
        _("graduates at one unit"),
        default=10,
        help_text=_("A unit with this many of this year's graduates."),
    )
    shared_contact_units = models.PositiveSmallIntegerField(
        _("units sharing a contact"),
        default=2,
        help_text=_("One contact phone or e-mail given by this many different units."),
    )
    proof_graduates = models.PositiveSmallIntegerField(
        _("graduates sharing a proof file"),
        default=2,
        help_text=_("One proof file (the same SHA-256) uploaded for this many graduates."),
    )
    approval_seconds = models.PositiveIntegerField(
        _("seconds per approval"),
        default=30,
        help_text=_("An approval made less than this long after the same reviewer's last one."),
    )
    fast_approvals = models.PositiveIntegerField(
        _("fast approvals per reviewer"),
        default=5,
        help_text=_("A reviewer with this many fast approvals this season."),
    )
    public_mail_domains = models.TextField(
        _("public mailbox domains"),
        default=PUBLIC_MAIL_DOMAINS,
        help_text=_("Separated by spaces."),
    )

    class Meta:
        verbose_name = _("verification thresholds")
        verbose_name_plural = _("verification thresholds")

    def __str__(self) -> str:
        return str(self.school)

    @classmethod
    def for_school(cls, school_id: int) -> "VerificationSettings":
        """The school's row, or the defaults (unsaved) when it has none."""
        return cls.objects.filter(school_id=school_id).first() or cls(school_id=school_id)

    @property
    def mail_domains(self) -> list[str]:
        return sorted({d.strip().lstrip("@").lower() for d in self.public_mail_domains.split()})


class FlagExplanation(models.Model):
    """A red flag of the 核查 page marked explained, with why (audited: EXPLAIN_FLAG).

    ``key`` names the flag by its type and subject (reviews/flags.py), so the note
    stays with it however often the flags are recomputed. College staff explain the flags of
    their college (``college`` set), school staff those of the school."""

    school = models.ForeignKey(
        "reference.School", verbose_name=_("school"), on_delete=models.CASCADE, related_name="+"
    )
    college = models.ForeignKey(
        "reference.College",
        verbose_name=_("college"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="+",
    )
    key = models.CharField(_("flag"), max_length=300)
    comment = models.TextField(_("explanation"))
    explained_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("explained by"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    explained_at = models.DateTimeField(_("explained at"))

    class Meta:
        verbose_name = _("explained flag")
        verbose_name_plural = _("explained flags")
        ordering = ["-explained_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["school", "key"],
                condition=models.Q(college=None),
                name="one_school_explanation_per_flag",
            ),
            models.UniqueConstraint(
                fields=["college", "key"],
                condition=models.Q(college__isnull=False),
                name="one_college_explanation_per_flag",
            ),
        ]

    def __str__(self) -> str:
        return self.key
