from typing import cast

from django import forms
from django.db import models
from django.utils.translation import gettext_lazy as _

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
    "other": [
        "kind",
        "subtype",
        "org_name",
        "org_uscc",
        "role",
        "institution",
        "program",
        "country",
        "start_date",
        "end_date",
        "proof",
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
    "other": ["kind", "proof"],
}
CODE_FIELDS = {
    "unit_nature": CodeTable.UNIT_NATURE,
    "unit_industry": CodeTable.INDUSTRY,
    "job_category": CodeTable.JOB_CATEGORY,
}


class RegionChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj) -> str:
        return f"{obj.full_name} ({obj.code})"


class RegistrationForm(DocumentForm, forms.ModelForm):
    """One form for the three paths. ``draft=True`` (暂存) checks formats only;
    submitting (提交) also requires what the path needs."""

    class Meta:
        model = Registration
        fields = sorted({name for names in PATH_FIELDS.values() for name in names})
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
        if "proof" in self.fields:
            self.fields["proof"] = DocumentField(label=self.fields["proof"].label)
        if "unit_name" in self.fields:
            self.fields["unit_name"].widget.attrs.update(
                {"data-unit-search": "1", "autocomplete": "off"}
            )
        for field in self.fields.values():
            field.required = False
        if path == "other":
            self.fields["kind"].required = True  # it decides the destination code, even in a draft
        if not draft:
            for name in PATH_REQUIRED[path]:
                if name == "proof" and self.instance.proof:
                    continue  # already uploaded
                self.fields[name].required = True

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
        if self.path == "other" and not self.draft and cleaned.get("kind") in OTHER_KINDS:
            for name in OTHER_KINDS[cleaned["kind"]][2]:
                if not cleaned.get(name):
                    self.add_error(name, _("This field is required for this destination type."))
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
            model_field = cast(models.Field, Registration._meta.get_field(name))
            if value is None and not model_field.null:
                value = model_field.get_default()
            values[name] = value
        return values


class ScanForm(DocumentForm, forms.Form):
    scan = DocumentField(label=_("Stamped agreement (scan or photo)"))
