"""Forms of 申请解约 (paths 二, 三) and 作废申请 (path 四)."""

from django import forms
from django.utils.translation import gettext_lazy as _

from agreements.online.forms import TerminationRequestForm


class RegistrationTerminationForm(TerminationRequestForm):
    """申请解约: the reason, an optional 解约函, and (for a unit without an account) the
    e-mail address its one-time answer link goes to."""

    unit_email = forms.EmailField(
        label=_("Unit's e-mail address"),
        required=False,
        help_text=_("The unit has no account here: it answers through a one-time link sent here."),
    )

    def __init__(self, *args, ask_unit_email: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["document"].label = _("Termination letter")
        if not ask_unit_email:
            del self.fields["unit_email"]


class VoidRequestForm(forms.Form):
    """作废申请: why the approved other destination no longer holds."""

    reason = forms.CharField(
        label=_("Reason for voiding"),
        max_length=1000,
        widget=forms.Textarea(attrs={"rows": 4, "maxlength": 1000, "data-counter": "1000"}),
        help_text=_("For example: the further study fell through."),
    )


class TerminationLinkRequestForm(forms.Form):
    """A unit without an account asks for a one-time link to apply for termination."""

    number = forms.CharField(label=_("Agreement number"), max_length=20)
    email = forms.EmailField(
        label=_("Your e-mail address"),
        help_text=_("The contact e-mail given on the agreement; the link is sent only there."),
    )
