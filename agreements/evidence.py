"""Evidence rules as data: per 毕业去向 code, the fields and proof documents a registration
needs, and whether its pay must reach the work place's minimum wage.

The rules live in ``EvidenceRule`` rows (seeded from ``agreements/data/evidence_rules.json``
by migration 0006 and ``manage.py load_evidence_rules``; platform admins edit them). The
registration form (required markers, the script's table, its validation) and the services
(``check_evidence``, at 提交 and at the stamped scan's upload) read the same rows, so no path
skips them. How each type's fields are shown (labels, the fields asked) stays in
agreements/registrations/forms.py: that is presentation, not a rule.
"""

import json
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from django.core.exceptions import ValidationError
from django.db import models, transaction
from django.utils import formats
from django.utils.deconstruct import deconstructible
from django.utils.text import capfirst
from django.utils.translation import gettext_lazy as _

from destreg.reference.models import Code, CodeTable, MinimumWage, Region

RULES_FILE = Path(__file__).resolve().parent / "data" / "evidence_rules.json"

# What a rule may name: the registration's content fields and its proof documents.
RULE_FIELDS = (
    "unit_name",
    "unit_uscc",
    "unit_nature",
    "unit_industry",
    "unit_region",
    "unit_address",
    "subtype",
    "org_name",
    "org_uscc",
    "shop_url",
    "role",
    "institution",
    "institution_foreign",
    "program",
    "country",
    "start_date",
    "end_date",
    "salary",
)
PROOF_FIELDS = ("proof", "extra_proof", "scan")
# The minimum-wage check reads the monthly pay and the work place (its province).
PAY_FIELD, PLACE_FIELD = "salary", "unit_region"
NO_FIGURE_NOTE = _("This province has no minimum wage figure on record: the pay was not checked.")


@deconstructible
class NamesIn:
    """A JSON list of names, each one of ``allowed``."""

    def __init__(self, allowed: tuple[str, ...]):
        self.allowed = tuple(allowed)

    def __call__(self, value: Any) -> None:
        if not isinstance(value, list) or any(name not in self.allowed for name in value):
            raise ValidationError(
                _("Give a list of these names: %(names)s."),
                params={"names": ", ".join(self.allowed)},
            )

    def __eq__(self, other: object) -> bool:
        return isinstance(other, NamesIn) and other.allowed == self.allowed


def _validate_required_with(value: Any) -> None:
    allowed = RULE_FIELDS + PROOF_FIELDS
    if not isinstance(value, dict) or any(
        key not in allowed
        or not isinstance(names, list)
        or not all(isinstance(name, str) for name in names)
        or set(names) - set(allowed)
        for key, names in value.items()
    ):
        raise ValidationError(
            _('Give an object such as {"shop_url": ["extra_proof"]}, with these names: %(names)s.'),
            params={"names": ", ".join(allowed)},
        )


class EvidenceRule(models.Model):
    """What a registration with this 毕业去向 code must give before it is submitted."""

    destination = models.OneToOneField(
        Code,
        verbose_name=_("graduate destination"),
        on_delete=models.PROTECT,
        limit_choices_to={"table": CodeTable.DESTINATION},
        related_name="+",
    )
    required_fields = models.JSONField(
        _("required fields"), default=list, blank=True, validators=[NamesIn(RULE_FIELDS)]
    )
    required_proofs = models.JSONField(
        _("required proof documents"),
        default=list,
        blank=True,
        validators=[NamesIn(PROOF_FIELDS)],
        help_text=_(
            "proof and extra_proof: the documents of the form; scan: the stamped agreement "
            "of an offline e-agreement, asked for once the information is approved."
        ),
    )
    one_of = models.JSONField(
        _("at least one of"),
        default=list,
        blank=True,
        validators=[NamesIn(RULE_FIELDS + PROOF_FIELDS)],
    )
    required_with = models.JSONField(
        _("required along with a field"),
        default=dict,
        blank=True,
        validators=[_validate_required_with],
        help_text=_("When the field is given, these are required as well."),
    )
    check_minimum_wage = models.BooleanField(
        _("pay must reach the minimum wage"),
        default=False,
        help_text=_(
            "The monthly pay (salary) must be at least the monthly minimum wage of the work "
            "place's province (unit_region); both are then required."
        ),
    )
    source = models.TextField(_("source"), help_text=_("Where the rule comes from."))
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("evidence rule")
        verbose_name_plural = _("evidence rules")
        ordering = ["destination__code"]

    def __str__(self) -> str:
        return str(self.destination)


@dataclass(frozen=True)
class Requirements:
    """A rule as the form and the services apply it."""

    required: tuple[str, ...] = ("proof", "scan")  # without a rule: a document at least
    one_of: tuple[str, ...] = ()
    required_with: dict[str, tuple[str, ...]] = field(default_factory=dict)
    minimum_wage: bool = False

    @classmethod
    def of(cls, rule: EvidenceRule | None) -> "Requirements":
        if rule is None:
            return cls()
        required = [*rule.required_fields, *rule.required_proofs]
        if rule.check_minimum_wage:
            required += [name for name in (PAY_FIELD, PLACE_FIELD) if name not in required]
        return cls(
            required=tuple(required),
            one_of=tuple(rule.one_of),
            required_with={key: tuple(names) for key, names in rule.required_with.items()},
            minimum_wage=rule.check_minimum_wage,
        )

    def named(self) -> set[str]:
        """Every field the rule names (the form must ask for them)."""
        names = {*self.required, *self.one_of, *self.required_with}
        for more in self.required_with.values():
            names.update(more)
        if self.minimum_wage:
            names.update((PAY_FIELD, PLACE_FIELD))
        return names


def rules_by_code() -> dict[str, Requirements]:
    """Every rule, by destination code (one query)."""
    return {
        rule.destination.code: Requirements.of(rule)
        for rule in EvidenceRule.objects.select_related("destination")
    }


def requirements_for(code: str) -> Requirements:
    """The rule of a destination code, or of its parent (a sub-code without its own rule)."""
    rules = (
        EvidenceRule.objects.filter(destination__table=CodeTable.DESTINATION)
        .filter(models.Q(destination__code=code) | models.Q(destination__children__code=code))
        .select_related("destination")
    )
    found = {rule.destination.code: rule for rule in rules}
    return Requirements.of(found.get(code) or next(iter(found.values()), None))


@dataclass(frozen=True)
class WageCheck:
    """The minimum wage the pay was held against: ``wage`` None means none on record."""

    province: Region
    wage: MinimumWage | None
    pay: int

    @property
    def below(self) -> bool:
        return self.wage is not None and self.pay < self.wage.monthly_amount

    @property
    def note(self) -> str:
        return "" if self.wage is not None else str(NO_FIGURE_NOTE)

    def error(self) -> str:
        if self.wage is None:
            return ""
        return str(
            _(
                "The monthly pay is below the minimum wage of %(province)s: %(amount)s yuan a "
                "month, in force since %(since)s."
            )
            % {
                "province": self.province.name,
                "amount": self.wage.monthly_amount,
                "since": formats.date_format(self.wage.effective_from, "DATE_FORMAT"),
            }
        )


def province_of(region: Region) -> Region | None:
    """The province a region (city or county) lies in."""
    if region.level == Region.Level.PROVINCE:
        return region
    return Region.objects.filter(code=f"{region.code[:2]}0000").first()


def wage_check(pay: int | None, region: Region | None, on: date) -> WageCheck | None:
    """Hold ``pay`` against the minimum wage of ``region``'s province on ``on``; None when
    there is nothing to check (no pay or no place given)."""
    if pay is None or region is None:
        return None
    province = province_of(region)
    if province is None:
        return None
    return WageCheck(province, MinimumWage.objects.in_force(province, on), pay)


def registration_wage(item: Any, on: date) -> WageCheck | None:
    """The minimum-wage check of a registration whose rule asks for one, for its pages
    (the student's and the reviewers'): None when its rule asks for none or nothing is given."""
    if item.destination_id is None or not requirements_for(item.destination.code).minimum_wage:
        return None
    return wage_check(getattr(item, PAY_FIELD), getattr(item, PLACE_FIELD), on)


def _given(item: Any, name: str) -> bool:
    value = getattr(item, name)
    return value is not None and value != "" and not (hasattr(value, "name") and not value.name)


# The names of the minimum-wage fields in the rules' messages (the model's are an agreement's).
MESSAGE_LABELS = {PAY_FIELD: _("monthly pay (yuan)"), PLACE_FIELD: _("work place")}


def _label(name: str) -> str:
    from agreements.models import Registration

    if name in MESSAGE_LABELS:
        return str(capfirst(MESSAGE_LABELS[name]))
    return str(capfirst(Registration._meta.get_field(name).verbose_name))  # type: ignore[union-attr]


def evidence_problems(item: Any, names: set[str], on: date) -> list[str]:
    """What ``item`` (a Registration) lacks or breaks under its destination's rule, among the
    fields ``names`` its path and stage ask for. Empty: the rule is met."""
    rules = requirements_for(item.destination.code)
    problems = []
    required = [n for n in rules.required if n in names]
    for key, more in rules.required_with.items():
        if key in names and _given(item, key):
            required += [n for n in more if n in names]
    missing = [n for n in dict.fromkeys(required) if not _given(item, n)]
    if missing:
        problems.append(
            str(_("Required for this destination: %(fields)s."))
            % {"fields": ", ".join(_label(n) for n in missing)}
        )
    one_of = [n for n in rules.one_of if n in names]
    if one_of and not any(_given(item, n) for n in one_of):
        problems.append(
            str(_("Give one of: %(fields)s.")) % {"fields": ", ".join(_label(n) for n in one_of)}
        )
    if rules.minimum_wage:
        check = wage_check(getattr(item, PAY_FIELD), getattr(item, PLACE_FIELD), on)
        if check is not None and check.below:
            problems.append(check.error())
    return problems


def check_evidence(item: Any, names: set[str], on: date) -> None:
    """Refuse (ValidationError) what ``evidence_problems`` finds: the services call it, so no
    form, script or client can submit past the rule."""
    problems = evidence_problems(item, names, on)
    if problems:
        raise ValidationError(" ".join(problems), code="evidence")


@transaction.atomic
def load_evidence_rules(
    path: Path = RULES_FILE, *, rule_model=EvidenceRule, code_model=Code, replace: bool = False
) -> int:
    """Seed the rules from ``path``; a code's rule already there stays as the admins left it
    unless ``replace``. ``rule_model`` and ``code_model`` let a migration pass its own."""
    count = 0
    for entry in json.loads(path.read_text(encoding="utf-8")):
        code = code_model.objects.filter(table="destination", code=entry["code"]).first()
        if code is None:
            continue  # the code table lacks it: load_reference first
        values = {
            "required_fields": entry.get("required_fields", []),
            "required_proofs": entry.get("required_proofs", []),
            "one_of": entry.get("one_of", []),
            "required_with": entry.get("required_with", {}),
            "check_minimum_wage": entry.get("check_minimum_wage", False),
            "source": entry["source"],
        }
        if replace:
            rule_model.objects.update_or_create(destination=code, defaults=values)
        else:
            rule_model.objects.get_or_create(destination=code, defaults=values)
        count += 1
    return count
