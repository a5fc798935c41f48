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
    created_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.fmt} export #{self.pk} ({self.status})"

    @property
    def percent(self) -> int:
        return int(100 * self.done / self.total) if self.total else 0


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
