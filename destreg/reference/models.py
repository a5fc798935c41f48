"""Schools, their colleges and majors, and the national code tables.

Code tables are loaded from the CSV files in ``data/`` (and administrative
regions from python-stdnum's region database) by ``manage.py load_reference``;
they stay editable in the Django admin.
"""

from typing import Any

from django.core.exceptions import ValidationError
from django.core.validators import RegexValidator
from django.db import models
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from destreg.lib.uploads import seal_path, validate_stored_seal


class CodeTable(models.TextChoices):
    DESTINATION = "destination", _("Graduate destination")
    UNIT_NATURE = "unit_nature", _("Unit nature")
    INDUSTRY = "industry", _("Industry")
    JOB_CATEGORY = "job_category", _("Job category")
    EDUCATION_LEVEL = "education_level", _("Education level")
    POLITICAL_STATUS = "political_status", _("Political status")
    ETHNICITY = "ethnicity", _("Ethnicity")
    URBAN_RURAL = "urban_rural", _("Urban or rural origin")
    STUDY_MODE = "study_mode", _("Training mode")
    COUNTRY = "country", _("Country or region")


class CodeQuerySet(models.QuerySet["Code"]):
    def of(self, table: str) -> "CodeQuerySet":
        return self.filter(table=table, active=True)


class Code(models.Model):
    """One entry of a national code table, e.g. (ethnicity, 01, 汉族)."""

    table = models.CharField(_("table"), max_length=32, choices=CodeTable.choices)
    code = models.CharField(_("code"), max_length=8)
    name = models.CharField(_("name"), max_length=100)
    name_en = models.CharField(
        _("English name"),
        max_length=200,
        blank=True,
        help_text=_("Shown in the English interface; empty: the Chinese name."),
    )
    parent = models.ForeignKey(
        "self",
        verbose_name=_("parent"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="children",
    )
    sort_order = models.PositiveIntegerField(_("sort order"), default=0)
    active = models.BooleanField(_("active"), default=True)

    objects = CodeQuerySet.as_manager()

    class Meta:
        verbose_name = _("code")
        verbose_name_plural = _("codes")
        ordering = ["table", "sort_order", "code"]
        constraints = [
            models.UniqueConstraint(fields=["table", "code"], name="code_unique_per_table"),
        ]

    def __str__(self) -> str:
        return self.display_name

    @property
    def display_name(self) -> str:
        """The name in the active language: English in the English interface when the
        code table has one, the Chinese (official) name otherwise.

        Documents in the national layout (the agreement PDF, exports) print ``name``, or
        render under the default language."""
        if self.name_en and (get_language() or "").startswith("en"):
            return self.name_en
        return self.name


def code_field(table: str, verbose_name, **kwargs) -> "models.ForeignKey[Any, Any]":
    """A foreign key to one code table's entries (e.g. ``CodeTable.INDUSTRY``)."""
    return models.ForeignKey(
        Code,
        verbose_name=verbose_name,
        on_delete=models.PROTECT,
        related_name="+",
        limit_choices_to={"table": table},
        **kwargs,
    )


class Region(models.Model):
    """An administrative division (GB/T 2260): province, city or county."""

    class Level(models.IntegerChoices):
        PROVINCE = 1, _("province")
        CITY = 2, _("city")
        COUNTY = 3, _("county")

    code = models.CharField(_("code"), max_length=6, primary_key=True)
    name = models.CharField(_("name"), max_length=50)
    full_name = models.CharField(_("full name"), max_length=150)
    level = models.PositiveSmallIntegerField(_("level"), choices=Level.choices)
    parent = models.ForeignKey(
        "self",
        verbose_name=_("parent"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="children",
    )

    class Meta:
        verbose_name = _("region")
        verbose_name_plural = _("regions")
        ordering = ["code"]

    def __str__(self) -> str:
        return self.full_name


class School(models.Model):
    """A higher-education institution (高校); every user and record belongs to one."""

    code = models.CharField(
        _("school code"),
        max_length=5,
        unique=True,
        validators=[RegexValidator(r"^\d{5}$", _("The school code has five digits."))],
    )
    name = models.CharField(_("name"), max_length=100, unique=True)
    address = models.CharField(_("address"), max_length=200, blank=True)
    postcode = models.CharField(
        _("postcode"),
        max_length=6,
        blank=True,
        validators=[RegexValidator(r"^\d{6}$", _("A postcode has six digits."))],
    )
    # The province whose employment office (省级就业主管部门) oversees the school.
    province = models.ForeignKey(
        Region,
        verbose_name=_("province"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="schools",
        limit_choices_to={"level": 1},
    )
    contact_name = models.CharField(_("employment office contact"), max_length=50, blank=True)
    contact_phone = models.CharField(_("employment office phone"), max_length=30, blank=True)
    contact_email = models.EmailField(_("employment office e-mail"), blank=True)
    invitation_validity_days = models.PositiveSmallIntegerField(
        _("default invitation validity (days)"), default=7
    )
    review_sla_days = models.PositiveSmallIntegerField(
        _("review waiting-time limit (days)"), default=3
    )
    reporting_cutoff = models.DateField(
        _("reporting cut-off date"),
        null=True,
        blank=True,
        help_text=_(
            "After this date, terminations and void requests skip the college and go to the "
            "school directly. Empty: no cut-off."
        ),
    )
    agreement_clauses = models.TextField(
        _("agreement clauses"),
        blank=True,
        help_text=_("One clause per line, printed on the agreement. Empty: the standard ten."),
    )
    # Printed by the platform on the online agreements the school approves (agreements/pdf.py).
    seal = models.ImageField(
        _("electronic seal"),
        upload_to=seal_path,
        blank=True,
        validators=[validate_stored_seal],
        help_text=_(
            "The school's seal as a PNG (transparent background) or JPG, at most 1 MB and "
            "2000 × 2000 pixels. Placed on each online agreement once the school approves it."
        ),
    )

    class Meta:
        verbose_name = _("school")
        verbose_name_plural = _("schools")
        ordering = ["code"]

    def __str__(self) -> str:
        return self.name


class College(models.Model):
    """A college or department (院系) of a school."""

    school = models.ForeignKey(
        School, verbose_name=_("school"), on_delete=models.PROTECT, related_name="colleges"
    )
    code = models.CharField(_("code"), max_length=20)
    name = models.CharField(_("name"), max_length=100)

    class Meta:
        verbose_name = _("college")
        verbose_name_plural = _("colleges")
        ordering = ["school", "code"]
        constraints = [
            models.UniqueConstraint(fields=["school", "code"], name="college_code_unique"),
            models.UniqueConstraint(fields=["school", "name"], name="college_name_unique"),
        ]

    def __str__(self) -> str:
        return self.name


class Major(models.Model):
    """A major (专业) taught by a college at one education level."""

    college = models.ForeignKey(
        College, verbose_name=_("college"), on_delete=models.PROTECT, related_name="majors"
    )
    code = models.CharField(_("major code"), max_length=20)
    name = models.CharField(_("name"), max_length=100)
    education_level = models.ForeignKey(
        Code,
        verbose_name=_("education level"),
        on_delete=models.PROTECT,
        related_name="+",
        limit_choices_to={"table": CodeTable.EDUCATION_LEVEL},
    )

    class Meta:
        verbose_name = _("major")
        verbose_name_plural = _("majors")
        ordering = ["college", "code"]
        constraints = [
            models.UniqueConstraint(
                fields=["college", "code", "education_level"], name="major_unique_per_level"
            ),
        ]

    def __str__(self) -> str:
        return self.name


class MinimumWageQuerySet(models.QuerySet["MinimumWage"]):
    def in_force(self, province: "Region", on: Any) -> "MinimumWage | None":
        """The figure of ``province`` in force on the date ``on`` (None: none on record)."""
        return (
            self.filter(province=province, effective_from__lte=on)
            .order_by("-effective_from")
            .first()
        )


class MinimumWage(models.Model):
    """A province's monthly minimum wage (月最低工资标准) from a date on, with its source.

    Entered by platform admins from the official tables (人社部 全国各地区月最低工资标准情况,
    or the province's own notice); no figure is ever guessed: a province without one is not
    checked, and the pages say so. Provinces set several tiers (档次) by area; the amount is
    the province's lowest tier, so that no lawful pay anywhere in it is refused."""

    province = models.ForeignKey(
        Region,
        verbose_name=_("province"),
        on_delete=models.PROTECT,
        limit_choices_to={"level": Region.Level.PROVINCE},
        related_name="+",
    )
    monthly_amount = models.PositiveIntegerField(
        _("monthly minimum wage (yuan)"),
        help_text=_("The province's lowest tier, so that no lawful pay in it is refused."),
    )
    effective_from = models.DateField(_("in force from"))
    source = models.TextField(
        _("source"), help_text=_("The official notice or table the figure comes from.")
    )

    objects = MinimumWageQuerySet.as_manager()

    class Meta:
        verbose_name = _("minimum wage")
        verbose_name_plural = _("minimum wages")
        ordering = ["province", "-effective_from"]
        constraints = [
            models.UniqueConstraint(
                fields=["province", "effective_from"], name="one_minimum_wage_per_date"
            ),
            models.CheckConstraint(
                condition=models.Q(monthly_amount__gt=0), name="minimum_wage_positive"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.province} {self.monthly_amount} ({self.effective_from})"

    def clean(self) -> None:
        if self.province_id and self.province.level != Region.Level.PROVINCE:
            raise ValidationError({"province": _("Choose a province.")})
