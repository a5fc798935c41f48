import dataclasses
from dataclasses import dataclass
from typing import Any, cast

from django import forms
from django.core.files.uploadedfile import UploadedFile
from django.db import models
from django.utils.text import capfirst
from django.utils.translation import gettext_lazy as _

from agreements.forms import DATE, TERM_FIELDS
from agreements.models import Registration
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
        "proof",
    ],
    "other": ["kind"],  # and what its type needs: OTHER_KIND_FIELDS
}


@dataclass(frozen=True)
class KindFields:
    """What one other-destination type (四) asks for, in the order of PATH_FIELDS["other"]."""

    name: Any  # short, for the headings of the field groups
    asks: tuple[str, ...]
    required: tuple[str, ...]  # what 提交 needs, proofs included
    one_of: tuple[str, ...] = ()  # at least one of these is needed as well
    # What a field means for this type (its label then).
    labels: dict[str, Any] = dataclasses.field(default_factory=dict)


# The one table of the other destinations' fields and proofs: the server's validation, the
# required markers and static/js/destination-fields.js (given it as JSON) all read it.
OTHER_KIND_FIELDS: dict[str, KindFields] = {
    "labour_contract": KindFields(
        _("Signed labour contract"),
        asks=("org_name", "org_uscc", "role", "start_date", "end_date", "proof"),
        required=("org_name", "org_uscc", "start_date", "proof"),
        labels={"org_name": _("Employer"), "proof": _("Signed labour contract")},
    ),
    "other_employment": KindFields(
        _("Other employment"),
        asks=("subtype", "org_name", "role", "start_date", "proof"),
        required=("subtype", "org_name", "proof"),
        labels={
            "subtype": _("Form of employment"),
            "org_name": _("Employer"),
            "proof": _("Proof of employment"),
        },
    ),
    "research_assistant": KindFields(
        _("Research assistant"),
        asks=("org_name", "role", "start_date", "end_date", "proof"),
        required=("org_name", "proof"),
        labels={"org_name": _("Employer"), "proof": _("Employment contract")},
    ),
    "conscript": KindFields(
        _("Conscript"),
        asks=("org_name", "start_date", "proof"),
        required=("proof",),
        labels={
            "org_name": _("Recruiting office"),
            "proof": _("Enlistment notice"),
        },
    ),
    "national_project": KindFields(
        _("National grassroots project"),
        asks=("subtype", "org_name", "start_date", "end_date", "proof"),
        required=("subtype", "proof"),
        labels={
            "subtype": _("Project name"),
            "org_name": _("Serving unit"),
            "proof": _("Proof of the project"),
        },
    ),
    "local_project": KindFields(
        _("Local grassroots project"),
        asks=("subtype", "org_name", "start_date", "end_date", "proof"),
        required=("subtype", "proof"),
        labels={
            "subtype": _("Project name"),
            "org_name": _("Serving unit"),
            "proof": _("Proof of the project"),
        },
    ),
    "entrepreneur": KindFields(
        _("Entrepreneurship"),
        asks=("org_name", "org_uscc", "shop_url", "role", "start_date", "proof"),
        required=("org_name", "proof"),
        one_of=("org_uscc", "shop_url"),
        labels={
            "org_name": _("Business or shop name"),
            "org_uscc": _("Business licence: unified social credit code"),
            "proof": _("Business licence, or screenshots of the online shop"),
        },
    ),
    "freelance": KindFields(
        _("Freelance"),
        asks=("subtype", "start_date", "proof", "extra_proof"),
        required=("proof", "extra_proof"),
        labels={
            "subtype": _("Kind of work"),
            "proof": _("Signed statement"),
            "extra_proof": _("Proof of income"),
        },
    ),
    "further_study": KindFields(
        _("Further study"),
        asks=("institution", "program", "subtype", "start_date", "proof"),
        required=("institution", "program", "subtype", "proof"),
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
        # The national export has the institution in Chinese and in its own language.
        required=("institution", "country", "institution_foreign", "proof"),
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
ONE_OF_FOR_KIND = _("Give the business licence's credit code or the online shop's address.")
FILE_FIELDS = ("proof", "extra_proof")


def kind_table() -> dict[str, dict]:
    """OTHER_KIND_FIELDS as the page gives it to static/js/destination-fields.js, with
    each field's own label (for a type that does not rename it)."""
    labels = {
        name: str(capfirst(cast(models.Field, Registration._meta.get_field(name)).verbose_name))
        for name in PATH_FIELDS["other"]
    }
    kinds = {
        kind: {
            "asks": list(spec.asks),
            "required": list(spec.required),
            "oneOf": list(spec.one_of),
            "labels": {name: str(label) for name, label in spec.labels.items()},
        }
        for kind, spec in OTHER_KIND_FIELDS.items()
    }
    return {"kinds": kinds, "labels": labels}


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
        if self.kind:
            spec = OTHER_KIND_FIELDS[self.kind]
            required += spec.required
            for name, label in spec.labels.items():
                self.fields[name].label = label
        if not draft:
            for name in required:
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
        for name in PATH_FIELDS["other"][1:]:
            kinds = [k for k, spec in OTHER_KIND_FIELDS.items() if name in spec.asks]
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
        if self.kind and not self.draft:
            one_of = OTHER_KIND_FIELDS[self.kind].one_of
            if one_of and not any(cleaned.get(name) or name in self.errors for name in one_of):
                for name in one_of:
                    self.add_error(name, ONE_OF_FOR_KIND)
        start, end = cleaned.get("start_date"), cleaned.get("end_date")
        if start and end and end < start:
            self.add_error("end_date", _("The end date comes before the start date."))
        probation, salary = cleaned.get("probation_salary"), cleaned.get("salary")
        if probation is not None and salary is not None and probation > salary:
            self.add_error("probation_salary", _("The probation salary exceeds the salary."))
        return cleaned

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
