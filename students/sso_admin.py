"""The Django admin page where platform admins set up each school's sign-on provider."""

from django import forms
from django.contrib import admin
from django.db import models
from django.utils.translation import gettext_lazy as _

from students.models import SchoolSignOn


def _https_urls(field, **kwargs):
    if isinstance(field, models.URLField):
        kwargs.setdefault("assume_scheme", "https")
    return field.formfield(**kwargs)


class SchoolSignOnForm(forms.ModelForm):
    # Write-only: the stored secret is never rendered back, not even masked.
    new_client_secret = forms.CharField(
        label=_("client secret"),
        required=False,
        strip=True,
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "new-password"}),
        help_text=_("Leave empty to keep the secret already stored."),
    )

    class Meta:
        model = SchoolSignOn
        formfield_callback = _https_urls
        fields = [
            "school",
            "enabled",
            "issuer",
            "authorization_endpoint",
            "token_endpoint",
            "userinfo_endpoint",
            "jwks_endpoint",
            "sign_algo",
            "client_id",
            "new_client_secret",
            "student_no_claim",
            "scopes",
            "use_pkce",
        ]

    def clean(self):
        cleaned = super().clean()
        secret_known = self.instance.client_secret_cipher
        if not self.cleaned_data.get("new_client_secret") and not secret_known:
            self.add_error("new_client_secret", _("Enter the client secret."))
        return cleaned

    def save(self, commit=True):
        if self.cleaned_data.get("new_client_secret"):
            self.instance.client_secret = self.cleaned_data["new_client_secret"]
        return super().save(commit)


@admin.register(SchoolSignOn)
class SchoolSignOnAdmin(admin.ModelAdmin):
    form = SchoolSignOnForm
    list_display = ["school", "enabled", "issuer", "client_id", "student_no_claim", "secret_set"]
    list_filter = ["enabled"]
    list_select_related = ["school"]
    search_fields = ["school__name", "school__code"]
    raw_id_fields = ["school"]
    formfield_overrides = {models.URLField: {"assume_scheme": "https"}}

    @admin.display(boolean=True, description=_("secret stored"))
    def secret_set(self, obj: SchoolSignOn) -> bool:
        return bool(obj.client_secret_cipher)
