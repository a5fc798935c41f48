"""Employers (用人单位) and their verification."""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from destreg.reference.models import Code, CodeTable, Region


class Employer(models.Model):
    name = models.CharField(_("unit name"), max_length=100)
    uscc = models.CharField(_("unified social credit code"), max_length=18, unique=True)
    nature = models.ForeignKey(
        Code,
        verbose_name=_("unit nature"),
        on_delete=models.PROTECT,
        related_name="+",
        limit_choices_to={"table": CodeTable.UNIT_NATURE},
    )
    industry = models.ForeignKey(
        Code,
        verbose_name=_("industry"),
        on_delete=models.PROTECT,
        related_name="+",
        limit_choices_to={"table": CodeTable.INDUSTRY},
    )
    region = models.ForeignKey(
        Region, verbose_name=_("region"), on_delete=models.PROTECT, related_name="+"
    )
    address = models.CharField(_("detailed address"), max_length=200)
    contact_name = models.CharField(_("contact person"), max_length=50)
    contact_phone = models.CharField(_("contact phone"), max_length=30, blank=True)
    contact_mobile = models.CharField(_("contact mobile"), max_length=11)
    contact_email = models.EmailField(_("contact e-mail"))
    verified_at = models.DateTimeField(_("verified at"), null=True, blank=True)
    verified_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("verified by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    created_at = models.DateTimeField(_("registered at"), auto_now_add=True)

    class Meta:
        verbose_name = _("employer")
        verbose_name_plural = _("employers")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    @property
    def is_verified(self) -> bool:
        return self.verified_at is not None
