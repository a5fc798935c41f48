from django import forms
from django.utils.translation import gettext_lazy as _


class DecisionForm(forms.Form):
    APPROVE, RETURN, REJECT = "approve", "return", "reject"

    decision = forms.ChoiceField(
        choices=[
            (APPROVE, _("Approve")),
            (RETURN, _("Return for changes")),
            (REJECT, _("Reject")),
        ]
    )
    comment = forms.CharField(
        label=_("Comment"),
        required=False,
        max_length=1000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("Required when you return or reject."),
    )

    # The item's state as rendered (destreg.lib.decisions.decision_state): the service
    # refuses the decision if the item has moved since. Missing counts as moved.
    state = forms.CharField(required=False, widget=forms.HiddenInput)

    def __init__(self, *args, allow_return: bool = True, **kwargs):
        super().__init__(*args, **kwargs)
        if not allow_return:
            field = self.fields["decision"]
            field.choices = [c for c in field.choices if c[0] != self.RETURN]  # type: ignore[attr-defined]

    def clean(self):
        super().clean()
        cleaned = self.cleaned_data
        if (
            cleaned.get("decision") in (self.RETURN, self.REJECT)
            and not cleaned.get("comment", "").strip()
        ):
            self.add_error("comment", _("Give the student a reason."))
        return cleaned


class BulkDecisionForm(DecisionForm):
    """One decision and one comment for every row chosen in the queue; each row's checkbox
    carries its own item's state, so the form has none."""

    state = None  # type: ignore[assignment]

    TITLES = {  # the queue's buttons, the confirm page's and the results' heading
        DecisionForm.APPROVE: _("Approve selected"),
        DecisionForm.RETURN: _("Return selected for changes"),
        DecisionForm.REJECT: _("Reject selected"),
    }


class UnbindForm(forms.Form):
    reason = forms.CharField(
        label=_("Reason for unlinking"),
        max_length=1000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("Sent to the account and to the graduate's e-mail, and kept in the history."),
    )


class ExplainFlagForm(forms.Form):
    """Mark a 核查 red flag explained."""

    key = forms.CharField(max_length=300, widget=forms.HiddenInput)
    comment = forms.CharField(
        label=_("Explanation"),
        max_length=1000,
        widget=forms.Textarea(attrs={"rows": 2}),
    )
