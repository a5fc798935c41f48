from django import forms
from django.contrib.auth import password_validation
from django.utils.translation import gettext_lazy as _

from destreg.accounts.models import UnitRole, User
from destreg.lib.uploads import DocumentField, DocumentForm
from destreg.lib.validators import validate_mobile, validate_single_line, validate_uscc
from destreg.reference.models import Code, CodeTable, Region
from destreg.reference.widgets import RegionPicker
from employers.models import ApiToken, Employer


class RegionField(forms.ModelChoiceField):
    def label_from_instance(self, obj: Region) -> str:
        return f"{obj.full_name} ({obj.code})"


class NewAccountFields(forms.Form):
    """A new account's user name and password, typed twice and checked by the validators."""

    username = forms.CharField(
        label=_("User name"), max_length=150, validators=[User.username_validator]
    )
    password1 = forms.CharField(label=_("Password"), widget=forms.PasswordInput, strip=False)
    password2 = forms.CharField(label=_("Password again"), widget=forms.PasswordInput, strip=False)

    def clean_username(self) -> str:
        username = self.cleaned_data["username"]
        if User.objects.filter(username__iexact=username).exists():
            raise forms.ValidationError(_("This user name is taken."))
        return username

    def clean(self):
        cleaned = super().clean() or {}
        p1, p2 = cleaned.get("password1"), cleaned.get("password2")
        if p1 and p2 and p1 != p2:
            self.add_error("password2", _("The two passwords differ."))
        elif p1:
            try:
                password_validation.validate_password(
                    p1, User(username=cleaned.get("username", ""))
                )
            except forms.ValidationError as error:
                self.add_error("password1", error)
        return cleaned


UNIT_FIELDS = [
    "name", "uscc", "nature", "industry", "region", "address", "contact_name",
    "contact_phone", "contact_mobile", "contact_email",
]  # fmt: skip


class EmployerDetailsForm(forms.ModelForm):
    """The unit's details, as it registers them and as its administrators change them."""

    region = RegionField(
        Region.objects.filter(level__gte=Region.Level.CITY),
        label=_("Address (region)"),
        widget=RegionPicker(),
    )

    class Meta:
        model = Employer
        fields = UNIT_FIELDS

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["nature"].queryset = Code.objects.of(CodeTable.UNIT_NATURE)  # type: ignore[attr-defined]
        self.fields["industry"].queryset = Code.objects.of(CodeTable.INDUSTRY)  # type: ignore[attr-defined]
        self.fields["contact_mobile"].validators.append(validate_mobile)
        for name in ("name", "address", "contact_name"):
            self.fields[name].validators.append(validate_single_line)

    def clean_uscc(self) -> str:
        value = validate_uscc(self.cleaned_data["uscc"])
        held = Employer.objects.filter(uscc=value, verified_at__isnull=False)
        if held.exclude(pk=self.instance.pk).exists():
            raise forms.ValidationError(
                _(
                    "A verified unit already holds this credit code; ask its users for an "
                    "account, or write to a school's employment office if the code is yours."
                )
            )
        return value


class EmployerRegistrationForm(NewAccountFields, DocumentForm, EmployerDetailsForm):
    business_licence = DocumentField(
        label=_("Business licence"),
        help_text=_("A scan or photo of the licence. PDF, JPG or PNG, at most 10 MB."),
    )
    authorisation_letter = DocumentField(
        label=_("Authorisation letter"),
        help_text=_(
            "The unit's letter, stamped with its seal, authorising this account's holder to act "
            "for it. PDF, JPG or PNG, at most 10 MB."
        ),
    )

    class Meta(EmployerDetailsForm.Meta):
        fields = [*UNIT_FIELDS, "business_licence", "authorisation_letter"]

    field_order = ["username", "password1", "password2", *Meta.fields]


class EmployerEvidenceForm(DocumentForm, forms.Form):
    """The portal's upload of the documents a unit is verified on (either or both)."""

    business_licence = DocumentField(label=_("Business licence"), required=False)
    authorisation_letter = DocumentField(label=_("Authorisation letter"), required=False)

    def clean(self):
        cleaned = super().clean() or {}
        if not self.errors and not any(cleaned.values()):
            raise forms.ValidationError(_("Choose at least one document to upload."))
        return cleaned


class VerifyEmployerForm(forms.Form):
    """A reviewer's verification: they confirm they opened both documents."""

    employer = forms.IntegerField(widget=forms.HiddenInput)
    checked = forms.BooleanField(
        label=_("I have opened and checked the business licence and the authorisation letter.")
    )
    note = forms.CharField(label=_("Note (optional)"), required=False, max_length=500)


class ColleagueInviteForm(forms.Form):
    email = forms.EmailField(label=_("Colleague's e-mail"))
    unit_role = forms.ChoiceField(label=_("Role"), choices=UnitRole.choices, initial=UnitRole.HR)


class ColleagueRoleForm(forms.Form):
    unit_role = forms.ChoiceField(label=_("Role"), choices=UnitRole.choices)


class ColleagueJoinForm(NewAccountFields):
    display_name = forms.CharField(label=_("Your name"), max_length=50)

    field_order = ["display_name", "username", "password1", "password2"]


class ApiTokenForm(forms.Form):
    name = forms.CharField(
        label=_("Key name"),
        max_length=60,
        validators=[validate_single_line],
        help_text=_("Which system uses the key, e.g. “HR system (production)”."),
    )
    scope = forms.ChoiceField(label=_("Scope"), choices=ApiToken.Scope.choices, initial="read")
    expires_on = forms.DateField(
        label=_("Valid until"),
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        help_text=_("At most a year from today."),
    )
