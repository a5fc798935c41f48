import dataclasses
from dataclasses import dataclass
from typing import Any, cast

from django import forms
from django.core.files.uploadedfile import UploadedFile
from django.db import models
from django.utils import timezone
from django.utils.text import capfirst
from django.utils.translation import gettext_lazy as _

from agreements.approval import SIGNED_DESTINATION
from agreements.evidence import Requirements, rules_by_code, wage_check
from agreements.forms import DATE, TERM_FIELDS
from agreements.models import OTHER_KINDS, Registration
from destreg.lib.uploads import DocumentField, DocumentForm
from destreg.lib.validators import validate_mobile, validate_uscc
from destreg.reference.models import Code, CodeTable, Region
from destreg.reference.widgets import RegionPicker

# --- paths 二, 三, 四 ---------------------------------------------------------

UNIT_FIELDS = [
    "unit_name",
    "unit_uscc",
    "unit_nature",
    "unit_industry",
    "unit_region",
    "unit_address",
    "contact_name",
    "contact_phone",
    "contact_mobile",
    "contact_email",
]
PATH_FIELDS = {
    "offline": [*UNIT_FIELDS, *TERM_FIELDS],
    "paper": [*UNIT_FIELDS[:6], "paper_form", "paper_number", "paper_signed_on", "proof"],
    # In the order shown: fields asked by the same destination types stay together.
    "other": [
        "kind",
        "institution",
        "program",
        "country",
        "institution_foreign",
        "program_foreign",
        "subtype",
        "org_name",
        "org_uscc",
        "shop_url",
        "role",
        "start_date",
        "end_date",
        "salary",
        "unit_region",
        "proof",
        "extra_proof",
    ],
}
PATH_REQUIRED = {
    "offline": [
        "unit_name",
        "unit_uscc",
        "unit_nature",
        "unit_industry",
        "unit_region",
        "unit_address",
        "job_category",
        "position",
        "contact_name",
        "contact_mobile",
        "contact_email",
        "hukou",
    ],
    "paper": [
        "unit_name",
        "unit_uscc",
        "unit_nature",
        "unit_industry",
        "unit_region",
        "paper_form",
        "paper_number",
        "paper_signed_on",
    ],  # and the proof the rule of 毕业去向 10 asks for (agreements/evidence.py)
    "other": ["kind"],  # and what its type's rule needs
}


@dataclass(frozen=True)
class KindFields:
    """How one other-destination type (四) is shown: the fields it asks for, in the order of
    PATH_FIELDS["other"] (and whatever its evidence rule names besides), and their labels.
    What is required is the rule's (agreements/evidence.py, edited in the admin)."""

    name: Any  # short, for the headings of the field groups
    asks: tuple[str, ...]
    # What a field means for this type (its label then).
    labels: dict[str, Any] = dataclasses.field(default_factory=dict)


PAY_LABELS = {"salary": _("Monthly pay (yuan)"), "unit_region": _("Work place")}
# How the other destinations' fields are shown; the evidence rules say which are required.
# The server's validation, the required markers and static/js/destination-fields.js (given
# both as JSON) read them.
OTHER_KIND_FIELDS: dict[str, KindFields] = {
    "labour_contract": KindFields(
        _("Signed labour contract"),
        asks=("org_name", "org_uscc", "role", "start_date", "end_date", "proof"),
        labels={"org_name": _("Employer"), "proof": _("Signed labour contract")},
    ),
    "other_employment": KindFields(
        _("Other employment"),
        asks=("subtype", "org_name", "role", "start_date", "salary", "unit_region", "proof"),
        labels={
            "subtype": _("Form of employment"),
            "org_name": _("Employer"),
            "proof": _("Proof of employment"),
            **PAY_LABELS,
        },
    ),
    "research_assistant": KindFields(
        _("Research assistant"),
        asks=("org_name", "role", "start_date", "end_date", "salary", "unit_region", "proof"),
        labels={"org_name": _("Employer"), "proof": _("Employment contract"), **PAY_LABELS},
    ),
    "conscript": KindFields(
        _("Conscript"),
        asks=("org_name", "start_date", "proof"),
        labels={
            "org_name": _("Recruiting office"),
            "proof": _("Enlistment notice"),
        },
    ),
    "national_project": KindFields(
        _("National grassroots project"),
        asks=("subtype", "org_name", "start_date", "end_date", "proof"),
        labels={
            "subtype": _("Project name"),
            "org_name": _("Serving unit"),
            "proof": _("Proof of the project"),
        },
    ),
    "local_project": KindFields(
        _("Local grassroots project"),
        asks=("subtype", "org_name", "start_date", "end_date", "proof"),
        labels={
            "subtype": _("Project name"),
            "org_name": _("Serving unit"),
            "proof": _("Proof of the project"),
        },
    ),
    "entrepreneur": KindFields(
        _("Entrepreneurship"),
        asks=("org_name", "org_uscc", "shop_url", "role", "start_date", "proof", "extra_proof"),
        labels={
            "org_name": _("Business or shop name"),
            "org_uscc": _("Business licence: unified social credit code"),
            "proof": _("Business licence, or screenshots of the online shop"),
            "extra_proof": _("Income records of the online shop"),
        },
    ),
    "freelance": KindFields(
        _("Freelance"),
        asks=("subtype", "start_date", "salary", "unit_region", "proof", "extra_proof"),
        labels={
            "subtype": _("Kind of work"),
            "proof": _("Signed statement"),
            "extra_proof": _("Proof of income"),
            "salary": _("Monthly income (yuan)"),
            "unit_region": _("Work place"),
        },
    ),
    "further_study": KindFields(
        _("Further study"),
        asks=("institution", "program", "subtype", "start_date", "proof"),
        labels={
            "institution": _("Admitting institution"),
            "program": _("Major"),
            "subtype": _("Level"),
            "proof": _("Admission proof"),
        },
    ),
    "study_abroad": KindFields(
        _("Study abroad"),
        asks=(
            "institution",
            "program",
            "country",
            "institution_foreign",
            "program_foreign",
            "start_date",
            "proof",
        ),
        labels={
            "institution": _("Admitting institution (Chinese name)"),
            "program": _("Major (Chinese name)"),
            "institution_foreign": _("Admitting institution (foreign name)"),
            "program_foreign": _("Major (foreign name)"),
            "proof": _("Admission letter"),
        },
    ),
}
REQUIRED_FOR_KIND = _("This field is required for this destination type.")
ONE_OF_FOR_KIND = _("Give one of these for this destination type.")
FILE_FIELDS = ("proof", "extra_proof")


def rule_code(path: str, kind: str = "") -> str:
    """The 毕业去向 code whose evidence rule applies to a registration of ``path``."""
    if path == Registration.Path.OTHER:
        return OTHER_KINDS[kind][0] if kind in OTHER_KINDS else ""
    return SIGNED_DESTINATION


def kind_asks(kind: str, rules: dict[str, Requirements]) -> list[str]:
    """The fields a type asks for: its own, and whatever its rule names besides (an admin
    may require a field the type did not ask for), in the order of the form."""
    named = set(OTHER_KIND_FIELDS[kind].asks) | rules.get(rule_code("other", kind), NO_RULE).named()
    return [name for name in PATH_FIELDS["other"][1:] if name in named]


def kind_table(rules: dict[str, Requirements] | None = None) -> dict[str, dict]:
    """The types' fields and rules as the page gives them to
    static/js/destination-fields.js, with each field's own label (for a type that does not
    rename it)."""
    rules = rules_by_code() if rules is None else rules
    labels = {
        name: str(capfirst(cast(models.Field, Registration._meta.get_field(name)).verbose_name))
        for name in PATH_FIELDS["other"]
    }
    kinds = {}
    for kind, spec in OTHER_KIND_FIELDS.items():
        rule = rules.get(rule_code("other", kind), NO_RULE)
        asks = kind_asks(kind, rules)
        kinds[kind] = {
            "asks": asks,
            "required": [name for name in rule.required if name in asks],
            "oneOf": list(rule.one_of),
            "labels": {name: str(label) for name, label in spec.labels.items()},
        }
    return {"kinds": kinds, "labels": labels}


NO_RULE = Requirements()

CODE_FIELDS = {
    "unit_nature": CodeTable.UNIT_NATURE,
    "unit_industry": CodeTable.INDUSTRY,
    "job_category": CodeTable.JOB_CATEGORY,
    "country": CodeTable.COUNTRY,
}


class RegionChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj) -> str:
        return f"{obj.full_name} ({obj.code})"


def _form_field(field: models.Field, **kwargs) -> forms.Field | None:
    if isinstance(field, models.URLField):
        kwargs.setdefault("assume_scheme", "https")  # a shop's address typed without one
    return field.formfield(**kwargs)


class RegistrationForm(DocumentForm, forms.ModelForm):
    """One form for the three paths. ``draft=True`` (暂存) checks formats only;
    submitting (提交) also requires what the path needs."""

    class Meta:
        model = Registration
        fields = sorted({name for names in PATH_FIELDS.values() for name in names})
        formfield_callback = _form_field
        widgets = {
            "report_deadline": DATE,
            "paper_signed_on": DATE,
            "start_date": DATE,
            "end_date": DATE,
            "supplement": forms.Textarea(
                attrs={"rows": 4, "maxlength": 1000, "data-counter": "1000"}
            ),
        }

    def __init__(self, *args, path: str, draft: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        self.path, self.draft = path, draft
        for name in list(self.fields):
            if name not in PATH_FIELDS[path]:
                del self.fields[name]
        self.order_fields(PATH_FIELDS[path])
        for name, table in CODE_FIELDS.items():
            if name in self.fields:
                self.fields[name] = forms.ModelChoiceField(
                    Code.objects.of(table),
                    to_field_name="code",
                    required=False,
                    label=self.fields[name].label,
                )
                # The options are told apart by code (what the unit search fills in), but
                # the instance's initial is the foreign key's id, which matches no option:
                # start from the stored Code itself, shown by its code.
                if name not in (kwargs.get("initial") or {}):
                    self.initial[name] = getattr(self.instance, name)
        if "unit_region" in self.fields:
            self.fields["unit_region"] = RegionChoiceField(
                Region.objects.filter(level__gte=Region.Level.CITY),
                required=False,
                label=self.fields["unit_region"].label,
                widget=RegionPicker(),
            )
        for name in FILE_FIELDS:
            if name in self.fields:
                self.fields[name] = DocumentField(label=self.fields[name].label)
                if getattr(self.instance, name):
                    # Stored already: the script does not mark it required either.
                    self.fields[name].widget.attrs["data-kept"] = "1"
        if "shop_url" in self.fields:
            self.fields["shop_url"].help_text = _(
                "Without a business licence: the online shop's address, with screenshots of "
                "the shop as the proof."
            )
        if path == "other":
            self.fields["salary"].help_text = _(
                "Where the type asks for it: at least the monthly minimum wage of the work "
                "place's province."
            )
        if "unit_name" in self.fields:
            self.fields["unit_name"].widget.attrs.update(
                {"data-unit-search": "1", "autocomplete": "off"}
            )
        for field in self.fields.values():
            field.required = False
        if path == "other":
            self.fields["kind"].required = True  # it decides the destination code, even in a draft
        required = list(PATH_REQUIRED[path])
        self.kind = self._chosen_kind() if path == "other" else ""
        self.rules = rules_by_code()
        self.rule = NO_RULE
        self.wage_note = ""  # a pay not checked for want of a minimum wage figure
        if self.kind or path != "other":
            self.rule = self.rules.get(rule_code(path, self.kind), NO_RULE)
            required += [name for name in self.rule.required if name in self.fields]
        if self.kind:
            for name, label in OTHER_KIND_FIELDS[self.kind].labels.items():
                self.fields[name].label = label
        if not draft:
            for name in dict.fromkeys(required):
                if name in FILE_FIELDS and getattr(self.instance, name):
                    continue  # already uploaded
                self.fields[name].required = True
                self.fields[name].widget.attrs["aria-required"] = "true"
                if path == "other" and name != "kind":
                    self.fields[name].error_messages["required"] = REQUIRED_FOR_KIND

    def _chosen_kind(self) -> str:
        """The other destination's type the form is for: as posted, or as stored or asked."""
        if self.is_bound:
            kind = self.data.get("kind", "")
        else:
            kind = self.initial.get("kind") or self.instance.kind
        return kind if kind in OTHER_KIND_FIELDS else ""

    def kind_groups(self) -> list[dict[str, Any]]:
        """The other destination's fields (after ``kind``), grouped by the types that ask
        for them: ``kinds`` (their keys, for the script; "" when every type does), ``names``
        (the heading) and the bound ``fields``."""
        groups: list[dict[str, Any]] = []
        asks = {kind: kind_asks(kind, self.rules) for kind in OTHER_KIND_FIELDS}
        for name in PATH_FIELDS["other"][1:]:
            kinds = [k for k in OTHER_KIND_FIELDS if name in asks[k]]
            if len(kinds) == len(OTHER_KIND_FIELDS):
                kinds = []
            key = " ".join(kinds)
            if not groups or groups[-1]["kinds"] != key:
                names = [OTHER_KIND_FIELDS[k].name for k in kinds]
                groups.append({"kinds": key, "names": names, "fields": []})
            groups[-1]["fields"].append(self[name])
        return groups

    def chosen_file_labels(self) -> list[str]:
        """Files chosen in this post: a page shown again cannot keep them."""
        return [
            str(self.fields[name].label)
            for name in FILE_FIELDS
            if name in self.fields and isinstance(self.files.get(name), UploadedFile)
        ]

    def clean(self):
        cleaned = super().clean() or {}
        for name in ("unit_uscc", "org_uscc"):
            if cleaned.get(name):
                try:
                    cleaned[name] = validate_uscc(cleaned[name])
                except forms.ValidationError as error:
                    self.add_error(name, error)
        if cleaned.get("contact_mobile"):
            try:
                validate_mobile(cleaned["contact_mobile"])
            except forms.ValidationError as error:
                self.add_error("contact_mobile", error)
        if (self.kind or self.path != "other") and not self.draft:
            self._check_rule(cleaned)
        start, end = cleaned.get("start_date"), cleaned.get("end_date")
        if start and end and end < start:
            self.add_error("end_date", _("The end date comes before the start date."))
        probation, salary = cleaned.get("probation_salary"), cleaned.get("salary")
        if probation is not None and salary is not None and probation > salary:
            self.add_error("probation_salary", _("The probation salary exceeds the salary."))
        return cleaned

    def _given(self, cleaned: dict, name: str) -> bool:
        """Typed in this post (or refused already), or a file stored before."""
        stored = name in FILE_FIELDS and getattr(self.instance, name)
        return bool(cleaned.get(name) or name in self.errors or stored)

    def _check_rule(self, cleaned: dict) -> None:
        """The evidence rule beyond the required fields: one of several, fields required
        along with another, and the pay against the work place's minimum wage."""
        rule = self.rule
        one_of = [name for name in rule.one_of if name in self.fields]
        if one_of and not any(self._given(cleaned, name) for name in one_of):
            for name in one_of:
                self.add_error(name, ONE_OF_FOR_KIND)
        for key, names in rule.required_with.items():
            if key in self.fields and cleaned.get(key):
                for name in names:
                    if name in self.fields and not self._given(cleaned, name):
                        self.add_error(name, REQUIRED_FOR_KIND)
        if rule.minimum_wage and "salary" not in self.errors:
            check = wage_check(
                cleaned.get("salary"), cleaned.get("unit_region"), timezone.localdate()
            )
            if check is not None and check.below:
                self.add_error("salary", check.error())
            elif check is not None:
                self.wage_note = check.note

    def values(self) -> dict:
        """Field values to store; a blank answer to a NOT NULL column gets its default."""
        values = {}
        for name in self.fields:
            value = self.cleaned_data.get(name)
            if name in FILE_FIELDS and not isinstance(value, UploadedFile):
                continue  # no new file chosen: the stored one stays
            model_field = cast(models.Field, Registration._meta.get_field(name))
            if value is None and not model_field.null:
                value = model_field.get_default()
            values[name] = value
        return values


class ScanForm(DocumentForm, forms.Form):
    scan = DocumentField(label=_("Stamped agreement (scan or photo)"))
