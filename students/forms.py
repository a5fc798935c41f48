from typing import cast

from django import forms
from django.contrib.auth import password_validation
from django.utils.translation import gettext_lazy as _

from destreg.accounts.models import User
from destreg.lib.validators import validate_id_number, validate_mobile
from destreg.reference.models import Code, CodeTable, College, Major, Region, School
from destreg.reference.widgets import RegionPicker
from students.models import (
    REPORT_TEXT_MAX,
    UPDATABLE_FIELDS,
    Gender,
    RegistryCode,
    RegistryRecord,
)


def code_field(table: str, label, *, required: bool = True) -> forms.ModelChoiceField:
    return forms.ModelChoiceField(
        Code.objects.of(table), label=label, required=required, to_field_name="code"
    )


class RegionChoiceField(forms.ModelChoiceField):
    """Counties (and cities without counties), labelled with their full name."""

    def __init__(self, **kwargs):
        super().__init__(
            Region.objects.filter(level__gte=Region.Level.CITY).order_by("code"), **kwargs
        )

    def label_from_instance(self, obj: Region) -> str:
        return f"{obj.full_name} ({obj.code})"


class MajorChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: Major) -> str:
        return f"{obj.college.name} · {obj.name}"


class SignupForm(forms.Form):
    username = forms.CharField(
        label=_("User name"),
        max_length=150,
        help_text=_("Letters, digits and @/./+/-/_ only; you sign in with it."),
        validators=[User.username_validator],
    )
    real_name = forms.CharField(label=_("Real name"), max_length=50)
    id_number = forms.CharField(label=_("ID number"), max_length=18)
    mobile = forms.CharField(label=_("Mobile"), max_length=11, validators=[validate_mobile])
    email = forms.EmailField(label=_("E-mail"))
    password1 = forms.CharField(label=_("Password"), widget=forms.PasswordInput, strip=False)
    password2 = forms.CharField(label=_("Password again"), widget=forms.PasswordInput, strip=False)

    def clean_username(self) -> str:
        username = self.cleaned_data["username"]
        if User.objects.filter(username__iexact=username).exists():
            raise forms.ValidationError(_("This user name is taken."))
        return username

    def clean_real_name(self) -> str:
        return self.cleaned_data["real_name"].strip()

    def clean_id_number(self) -> str:
        # Whether the number has an account is never said here (students.services).
        return validate_id_number(self.cleaned_data["id_number"])

    def clean(self):
        super().clean()
        cleaned = self.cleaned_data
        p1, p2 = cleaned.get("password1"), cleaned.get("password2")
        if p1 and p2 and p1 != p2:
            self.add_error("password2", _("The two passwords differ."))
        elif p1:
            candidate = User(username=cleaned.get("username", ""), email=cleaned.get("email", ""))
            try:
                password_validation.validate_password(p1, candidate)
            except forms.ValidationError as error:
                self.add_error("password1", error)
        return cleaned


class SendCodeForm(forms.Form):
    """Where the first-login check sends its code: one of the record's contacts."""

    channel = forms.ChoiceField(label=_("Send the code to"), widget=forms.RadioSelect)

    def __init__(self, *args, record: RegistryRecord, **kwargs):
        super().__init__(*args, **kwargs)
        choices = []
        if record.mobile:
            choices.append(
                (RegistryCode.Channel.SMS, _("Phone %(mobile)s") % {"mobile": record.mobile_masked})
            )
        if record.email:
            choices.append(
                (RegistryCode.Channel.EMAIL, _("E-mail %(email)s") % {"email": record.email_masked})
            )
        field = cast(forms.ChoiceField, self.fields["channel"])
        field.choices = choices
        if choices:
            self.initial.setdefault("channel", choices[0][0])


class ConfirmCodeForm(forms.Form):
    code = forms.CharField(
        label=_("Code"),
        max_length=20,
        help_text=_("The 6-digit code we sent you, or the activation code from your college."),
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "inputmode": "text"}),
    )


class ContactForm(forms.Form):
    mobile = forms.CharField(label=_("Mobile"), max_length=11, validators=[validate_mobile])
    email = forms.EmailField(label=_("E-mail"))


class ImportRequestForm(forms.Form):
    """信息导入: the registry fields a student without a record fills in."""

    student_no = forms.CharField(label=_("Student number"), max_length=30)
    gender = forms.TypedChoiceField(label=_("Gender"), choices=Gender.choices, coerce=int)
    ethnicity = code_field(CodeTable.ETHNICITY, _("Ethnicity"))
    political_status = code_field(CodeTable.POLITICAL_STATUS, _("Political status"))
    college = forms.ModelChoiceField(College.objects.none(), label=_("College"))
    major = MajorChoiceField(Major.objects.none(), label=_("Major"))
    education_level = code_field(CodeTable.EDUCATION_LEVEL, _("Education level"))
    study_mode = code_field(CodeTable.STUDY_MODE, _("Training mode"), required=False)
    enrolment_date = forms.DateField(
        label=_("Enrolment date"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    graduation_date = forms.DateField(
        label=_("Graduation date"), widget=forms.DateInput(attrs={"type": "date"})
    )
    origin_region = RegionChoiceField(label=_("Place of origin"), widget=RegionPicker())
    urban_rural = code_field(CodeTable.URBAN_RURAL, _("Urban or rural origin"), required=False)
    note = forms.CharField(
        label=_("Explanation for the school"),
        required=False,
        max_length=500,
        widget=forms.Textarea(attrs={"rows": 3}),
    )

    def __init__(self, *args, school: School, **kwargs):
        super().__init__(*args, **kwargs)
        self.school = school
        college_field = cast(forms.ModelChoiceField, self.fields["college"])
        major_field = cast(forms.ModelChoiceField, self.fields["major"])
        college_field.queryset = College.objects.filter(school=school)
        major_field.queryset = Major.objects.filter(college__school=school).select_related(
            "college"
        )

    def clean(self):
        super().clean()
        cleaned = self.cleaned_data
        college, major = cleaned.get("college"), cleaned.get("major")
        if college and major and major.college_id != college.pk:
            self.add_error("major", _("This major does not belong to the chosen college."))
        enrolled, graduated = cleaned.get("enrolment_date"), cleaned.get("graduation_date")
        if enrolled and graduated and enrolled >= graduated:
            self.add_error("graduation_date", _("Graduation must come after enrolment."))
        return cleaned

    def as_data(self) -> dict:
        """The request's JSON payload: codes and keys, not objects."""
        data = {}
        for name, value in self.cleaned_data.items():
            if name == "note":
                continue
            if isinstance(value, Code | Region):
                data[name] = value.code
            elif hasattr(value, "pk"):
                data[name] = value.pk
            elif hasattr(value, "isoformat"):
                data[name] = value.isoformat()
            else:
                data[name] = value
        return data


class UpdateRequestForm(forms.Form):
    """信息更新: corrections to the registry fields a student may not edit directly."""

    ethnicity = code_field(CodeTable.ETHNICITY, _("Ethnicity"))
    political_status = code_field(CodeTable.POLITICAL_STATUS, _("Political status"))
    origin_region = RegionChoiceField(label=_("Place of origin"), widget=RegionPicker())
    urban_rural = code_field(CodeTable.URBAN_RURAL, _("Urban or rural origin"), required=False)
    study_mode = code_field(CodeTable.STUDY_MODE, _("Training mode"), required=False)
    note = forms.CharField(
        label=_("Explanation for the school"),
        max_length=500,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("Say what is wrong and what proves the correct value."),
    )

    def __init__(self, *args, record: RegistryRecord, **kwargs):
        self.record = record
        kwargs["initial"] = {name: _stored_value(record, name) for name in UPDATABLE_FIELDS}
        super().__init__(*args, **kwargs)

    def clean(self):
        super().clean()
        cleaned = self.cleaned_data
        if not self.errors and not self.corrections():
            raise forms.ValidationError(_("You have not changed any value."))
        return cleaned

    def corrections(self) -> dict:
        changed = {}
        for name in UPDATABLE_FIELDS:
            value = self.cleaned_data.get(name)
            new = getattr(value, "code", None) if value is not None else None
            if new != _stored_value(self.record, name):
                changed[name] = new
        return changed


def _stored_value(record: RegistryRecord, name: str) -> str | None:
    related = getattr(record, name)
    return related.code if related is not None else None


class SchoolChoiceForm(forms.Form):
    school = forms.ModelChoiceField(School.objects.all(), label=_("Your school"))


class RegistryImportForm(forms.Form):
    file = forms.FileField(
        label=_("CSV or XLSX file"),
        help_text=_(
            "First row: 学号, 姓名, 性别, 身份证号, 民族, 政治面貌, 院系, 专业代码, 学历层次, "
            "毕业日期, 生源地代码 (and optionally 培养方式, 入学日期 or 入学年月, 毕业年份, "
            "城乡生源, 手机号, 电子邮箱, 考生号, 出生日期, 委培单位, 学习形式)."
        ),
    )
    valid_only = forms.BooleanField(
        label=_("If some rows are invalid, import the valid rows anyway"), required=False
    )

    def clean_file(self):
        from students.import_files import check_size

        upload = self.cleaned_data["file"]
        check_size(upload.size or 0)
        return upload


class AdminRegistryImportForm(RegistryImportForm):
    school = forms.ModelChoiceField(School.objects.all(), label=_("School"))

    field_order = ["school", "file", "valid_only"]


class NotMyWillForm(forms.Form):
    """这不是我本人的意愿: what happened, in the graduate's words (optional)."""

    text = forms.CharField(
        label=_("What happened (optional)"),
        required=False,
        max_length=REPORT_TEXT_MAX,
        widget=forms.Textarea(attrs={"rows": 5}),
        help_text=_("Only the school's and your college's reviewers read it."),
    )
