from django import forms
from django.utils.translation import gettext_lazy as _

from agreements.forms import TERM_FIELDS
from agreements.models import Invitation, UnitSigningRequest
from agreements.online.forms import TERM_WIDGETS, TermsForm
from destreg.lib.validators import validate_single_line, validate_uscc
from employers.forms import UNIT_FIELDS, EmployerDetailsForm


class UnitSigningStartForm(forms.ModelForm):
    """The graduate names the unit and the contact who gets the link."""

    class Meta:
        model = UnitSigningRequest
        fields = ["unit_name", "unit_uscc", "contact_name", "contact_email"]
        help_texts = {
            "unit_uscc": _("18 characters, on the unit's business licence."),
            "contact_email": _("The one-time link is e-mailed here."),
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for name in ("unit_name", "contact_name"):
            self.fields[name].validators.append(validate_single_line)

    def clean_unit_uscc(self) -> str:
        return validate_uscc(self.cleaned_data["unit_uscc"])


class UnitDetailsForm(EmployerDetailsForm):
    """The unit's details as its contact gives them on the link's page, with its credit code
    typed again: whoever holds the link must know the code the graduate named."""

    confirm_uscc = forms.CharField(
        label=_("Your unit's unified social credit code"),
        max_length=18,
        help_text=_("Type it again from your business licence, to confirm the unit is yours."),
    )

    class Meta(EmployerDetailsForm.Meta):
        fields = [name for name in UNIT_FIELDS if name != "uscc"]

    field_order = ["confirm_uscc", *Meta.fields]

    def clean_confirm_uscc(self) -> str:
        return validate_uscc(self.cleaned_data["confirm_uscc"])

    def unit(self) -> dict:
        return {name: self.cleaned_data[name] for name in self.Meta.fields}


class UnitTermsForm(TermsForm):
    """The terms the unit offers (the invitation's own form, without whom and deadline)."""

    class Meta:
        model = Invitation
        fields = TERM_FIELDS
        widgets = TERM_WIDGETS
