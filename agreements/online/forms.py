from datetime import datetime, time, timedelta

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from agreements.forms import DATE, TERM_FIELDS
from agreements.models import Invitation, TermTemplate
from agreements.terms import terms_problems
from destreg.lib.uploads import DocumentField, DocumentForm
from destreg.lib.validators import validate_id_number
from destreg.reference.models import Code, CodeTable

TERM_WIDGETS = {
    "report_deadline": DATE,
    "supplement": forms.Textarea(attrs={"rows": 4, "maxlength": 1000, "data-counter": "1000"}),
}


class TermsForm(forms.ModelForm):
    """The terms a unit offers, as the invitation and the terms template ask for them."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["job_category"] = forms.ModelChoiceField(
            Code.objects.of(CodeTable.JOB_CATEGORY),
            to_field_name="code",
            label=self.fields["job_category"].label,
        )

    def clean(self):
        cleaned = super().clean() or {}
        for field, problem in terms_problems(cleaned).items():
            self.add_error(field, problem)
        return cleaned

    def terms(self) -> dict:
        return {name: self.cleaned_data[name] for name in TERM_FIELDS}


class InvitationForm(TermsForm):
    """签约邀请: who (name + 身份证号) and the terms offered."""

    name = forms.CharField(label=_("Graduate's name"), max_length=50)
    id_number = forms.CharField(label=_("Graduate's ID number"), max_length=18)
    answer_by = forms.DateField(
        label=_("Answer by"),
        required=False,
        widget=DATE,
        help_text=_("Leave empty for the school's default (7 days unless the school set another)."),
    )

    class Meta:
        model = Invitation
        fields = TERM_FIELDS
        widgets = TERM_WIDGETS

    field_order = ["name", "id_number", *TERM_FIELDS, "answer_by"]

    def clean_id_number(self) -> str:
        return validate_id_number(self.cleaned_data["id_number"])

    def clean_answer_by(self):
        day = self.cleaned_data.get("answer_by")
        if day is None:
            return None
        if day < timezone.localdate():
            raise forms.ValidationError(_("The answer deadline cannot be in the past."))
        if day > timezone.localdate() + timedelta(days=90):
            raise forms.ValidationError(_("The answer deadline can be at most 90 days away."))
        return timezone.make_aware(datetime.combine(day, time(23, 59, 59)))

    @classmethod
    def initial_from(cls, template: TermTemplate) -> dict:
        """The form's starting values from a saved terms template."""
        initial = {name: getattr(template, name) for name in TERM_FIELDS}
        initial["job_category"] = template.job_category.code
        if template.validity_days:
            initial["answer_by"] = timezone.localdate() + timedelta(days=template.validity_days)
        return initial


class TermTemplateForm(TermsForm):
    class Meta:
        model = TermTemplate
        fields = ["name", *TERM_FIELDS, "validity_days"]
        widgets = TERM_WIDGETS

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk and self.instance.job_category_id:
            self.initial["job_category"] = self.instance.job_category.code

    def values(self) -> dict:
        return self.terms() | {
            "name": self.cleaned_data["name"],
            "validity_days": self.cleaned_data["validity_days"],
        }


class TerminationRequestForm(DocumentForm, forms.Form):
    reason = forms.CharField(
        label=_("Reason for termination"),
        max_length=1000,
        widget=forms.Textarea(attrs={"rows": 4, "maxlength": 1000, "data-counter": "1000"}),
    )
    document = DocumentField(label=_("Supporting document (optional)"), required=False)


class TerminationAnswerForm(forms.Form):
    agree = forms.TypedChoiceField(
        choices=[("1", _("Agree")), ("0", _("Refuse"))],
        coerce=lambda v: v == "1",
        widget=forms.HiddenInput,
    )
    comment = forms.CharField(label=_("Comment"), required=False, max_length=500)
