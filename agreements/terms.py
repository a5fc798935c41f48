"""What online agreements and the other paths' registrations share: the agreed terms,
the signed destination and the public verification token."""

import secrets
from collections.abc import Mapping
from typing import Any

from django.core.validators import MaxLengthValidator, MinValueValidator
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from destreg.reference.models import Code, CodeTable, code_field


class Hukou(models.TextChoices):
    """单位是否解决户档."""

    EMPLOYER = "employer", _("Received by the employer")
    CUSTODIAN = "custodian", _("Received by a custodian unit")
    SUPERIOR = "superior", _("Received by the superior unit")
    NONE = "none", _("Not received")


def terms_problems(terms: Mapping[str, Any]) -> dict[str, Any]:
    """What is wrong with a set of terms as a whole (field by field each is checked by its
    field): the form and the invitation service both ask, so a batch row or an API call
    cannot offer what the portal's form refuses."""
    problems: dict[str, Any] = {}
    probation, salary = terms.get("probation_salary"), terms.get("salary")
    if probation is not None and salary is not None and probation > salary:
        problems["probation_salary"] = _("The probation salary exceeds the salary.")
    report = terms.get("report_deadline")
    if report and report < timezone.localdate():
        problems["report_deadline"] = _("The report date cannot be in the past.")
    return problems


class Terms(models.Model):
    """The agreed terms an employer offers; shared by invitations and agreements."""

    job_category = code_field(CodeTable.JOB_CATEGORY, _("job category"))
    position = models.CharField(_("position"), max_length=100)
    work_location = models.CharField(_("work location"), max_length=200)
    probation_months = models.PositiveSmallIntegerField(
        _("probation (months)"), default=0, validators=[MinValueValidator(0)]
    )
    probation_salary = models.PositiveIntegerField(
        _("probation salary (yuan/month)"), null=True, blank=True
    )
    salary = models.PositiveIntegerField(
        _("salary after probation (yuan/month)"), null=True, blank=True
    )
    penalty = models.PositiveIntegerField(_("breach penalty (yuan)"), null=True, blank=True)
    report_place = models.CharField(_("place to report"), max_length=200, blank=True)
    report_deadline = models.DateField(_("report by"), null=True, blank=True)
    hukou = models.CharField(_("residence and file"), max_length=10, choices=Hukou.choices)
    supplement = models.TextField(
        _("supplementary terms"), blank=True, validators=[MaxLengthValidator(1000)]
    )

    class Meta:
        abstract = True


def signed_destination_id() -> int:
    """The id of 毕业去向 10 (签就业协议形式就业), the destination of every signed agreement."""
    return Code.objects.get(table=CodeTable.DESTINATION, code="10").pk


def new_verify_token() -> str:
    return secrets.token_urlsafe(32)
