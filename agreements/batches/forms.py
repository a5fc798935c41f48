from django import forms
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from agreements.batches.files import MAX_BYTES, MAX_ROWS
from agreements.models import TermTemplate


class BatchUploadForm(forms.Form):
    """批量邀请: one terms template for all, and the file of graduates."""

    template = forms.ModelChoiceField(
        TermTemplate.objects.none(),
        label=_("Terms template"),
        help_text=_("Every row is invited with these terms, unless the row gives its own."),
    )
    file = forms.FileField(label=_("CSV or XLSX file"))

    def __init__(self, *args, employer_id: int, **kwargs):
        super().__init__(*args, **kwargs)
        # Formatted here, in the request's language (a lazy text formatted at import is not).
        self.fields["file"].help_text = gettext(
            "First row: 姓名, 身份证号 (and optionally 岗位名称, 工作地点, 转正后月薪). "
            "At most %(rows)d rows and %(mb)d MB."
        ) % {"rows": MAX_ROWS, "mb": MAX_BYTES // 1024 // 1024}
        self.fields["template"].queryset = TermTemplate.objects.filter(employer_id=employer_id)  # type: ignore[attr-defined]
