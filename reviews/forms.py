from typing import cast

from django import forms
from django.utils.translation import gettext_lazy as _

from destreg.accounts.models import User
from destreg.reference.models import College
from reviews.models import Method, Outcome, Snapshot


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


class SampleForm(forms.Form):
    """抽样: a percentage of the school's graduates with an approved destination."""

    percentage = forms.IntegerField(label=_("Percentage"), min_value=1, max_value=100, initial=5)
    college = forms.ModelChoiceField(
        label=_("College"),
        queryset=College.objects.none(),
        required=False,
        empty_label=_("All colleges"),
    )
    seed = forms.IntegerField(
        label=_("Seed"),
        required=False,
        min_value=0,
        max_value=2**62,
        help_text=_("Leave blank for a new random seed; enter a recorded seed to draw again."),
    )

    def __init__(self, *args, school, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["college"].queryset = College.objects.filter(school=school).order_by("name")  # type: ignore[attr-defined]


class AssignForm(forms.Form):
    verifier = forms.ModelChoiceField(label=_("Verifier"), queryset=User.objects.none())

    def __init__(self, *args, verifiers, **kwargs):
        super().__init__(*args, **kwargs)
        field = self.fields["verifier"]
        field.queryset = verifiers  # type: ignore[attr-defined]
        field.label_from_instance = self.describe  # type: ignore[attr-defined]

    @staticmethod
    def describe(user) -> str:
        where = user.college.name if user.college_id else _("School")
        return f"{user.display_name or user.username} ({where})"


class CheckForm(forms.Form):
    method = forms.ChoiceField(label=_("Method"), choices=[])
    outcome = forms.ChoiceField(label=_("Outcome"), choices=[])
    notes = forms.CharField(
        label=_("Notes"),
        required=False,
        max_length=1000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("Required when not true: the graduate reads it as the reason."),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["method"].choices = Method.choices  # type: ignore[attr-defined]
        self.fields["outcome"].choices = Outcome.choices  # type: ignore[attr-defined]


class SnapshotChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj) -> str:
        return _("Class of %(year)d, as of %(cutoff)s") % {
            "year": obj.graduation_year,
            "cutoff": f"{obj.cutoff:%Y-%m-%d}",
        }


class AnnualReportForm(forms.Form):
    """The class a new annual report counts: this year's or one of the four before."""

    year = forms.TypedChoiceField(label=_("Graduating class"), coerce=int, choices=[])
    snapshot = SnapshotChoiceField(
        label=_("As of"),
        queryset=Snapshot.objects.none(),
        required=False,
        empty_label=_("Live data (now)"),
        help_text=_("Or a reporting date's snapshot: the figures as they stood at its cut-off."),
    )

    def __init__(self, *args, current_year: int, snapshots=None, **kwargs):
        super().__init__(*args, **kwargs)
        years = range(current_year, current_year - 5, -1)
        field = cast(forms.TypedChoiceField, self.fields["year"])
        field.choices = [(year, str(year)) for year in years]
        field.initial = current_year
        chosen = cast(forms.ModelChoiceField, self.fields["snapshot"])
        chosen.queryset = snapshots if snapshots is not None else Snapshot.objects.none()

    def clean(self):
        cleaned = super().clean() or {}
        snapshot, year = cleaned.get("snapshot"), cleaned.get("year")
        if snapshot is not None and year is not None and snapshot.graduation_year != year:
            self.add_error(
                "snapshot",
                _("This snapshot is of the class of %(year)d.")
                % {"year": snapshot.graduation_year},
            )
        return cleaned


class ReportingDatesForm(forms.Form):
    """The school's reporting dates of one graduating class (the service checks them)."""

    def __init__(self, *args, count: int = 3, **kwargs):
        super().__init__(*args, **kwargs)
        for n in range(count):
            self.fields[f"date_{n}"] = forms.DateField(
                label=_("Reporting date %(n)d") % {"n": n + 1},
                required=n == 0,
                widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
            )

    def dates(self) -> list:
        return [value for value in self.cleaned_data.values() if value]


class HandleReportForm(forms.Form):
    """A 这不是我本人的意愿 report marked handled, saying how."""

    comment = forms.CharField(
        label=_("How it was handled"),
        max_length=1000,
        widget=forms.Textarea(attrs={"rows": 2, "class": "form-control", "required": True}),
    )
    state = forms.CharField(required=False, widget=forms.HiddenInput)


class ExplainFlagForm(forms.Form):
    """Mark a 核查 red flag explained."""

    key = forms.CharField(max_length=300, widget=forms.HiddenInput)
    comment = forms.CharField(
        label=_("Explanation"),
        max_length=1000,
        widget=forms.Textarea(attrs={"rows": 2}),
    )
