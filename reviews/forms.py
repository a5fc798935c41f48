from django import forms
from django.utils.translation import gettext_lazy as _

from destreg.reference.models import School


class DecisionForm(forms.Form):
    APPROVE, RETURN, REJECT = "approve", "return", "reject"

    decision = forms.ChoiceField(choices=[
        (APPROVE, _("Approve")), (RETURN, _("Return for changes")), (REJECT, _("Reject")),
    ])
    comment = forms.CharField(
        label=_("Comment"), required=False, max_length=1000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("Required when you return or reject."),
    )

    def __init__(self, *args, allow_return: bool = True, **kwargs):
        super().__init__(*args, **kwargs)
        if not allow_return:
            field = self.fields["decision"]
            field.choices = [c for c in field.choices if c[0] != self.RETURN]  # type: ignore[attr-defined]

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("decision") in (self.RETURN, self.REJECT) and not cleaned.get("comment", "").strip():
            self.add_error("comment", _("Give the student a reason."))
        return cleaned


class RegistryImportForm(forms.Form):
    file = forms.FileField(
        label=_("CSV or XLSX file"),
        help_text=_("First row: 学号, 姓名, 性别, 身份证号, 民族, 政治面貌, 院系, 专业代码, 学历层次, "
                    "毕业日期, 生源地代码 (and optionally 培养方式, 入学日期, 毕业年份, 城乡生源)."),
    )
    valid_only = forms.BooleanField(
        label=_("If some rows are invalid, import the valid rows anyway"), required=False
    )


class AdminRegistryImportForm(RegistryImportForm):
    school = forms.ModelChoiceField(School.objects.all(), label=_("School"))

    field_order = ["school", "file", "valid_only"]
