from django import forms
from django.utils.translation import gettext_lazy as _

from destreg.lib.uploads import validate_document

# A date input shows only an ISO date (a localised "2026/07/15" would show as blank).
DATE = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
TERM_FIELDS = [
    "job_category",
    "position",
    "work_location",
    "probation_months",
    "probation_salary",
    "salary",
    "penalty",
    "report_place",
    "report_deadline",
    "hukou",
    "supplement",
]


class VerifyUploadForm(forms.Form):
    file = forms.FileField(
        label=_("Check a PDF you received"),
        validators=[validate_document],
        help_text=_("We tell you whether it is this agreement's genuine, current document."),
    )
