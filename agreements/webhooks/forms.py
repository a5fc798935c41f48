from django import forms
from django.utils.translation import gettext_lazy as _

from agreements.webhooks.models import SUBSCRIBABLE, WebhookEndpoint
from agreements.webhooks.sending import check_url


class WebhookEndpointForm(forms.Form):
    url = forms.URLField(
        label=_("Endpoint URL"),
        max_length=500,
        assume_scheme="https",
        help_text=_("An https:// address of your HR system; each event is POSTed to it."),
    )
    events = forms.MultipleChoiceField(
        label=_("Events"),
        choices=SUBSCRIBABLE,
        widget=forms.CheckboxSelectMultiple,
        error_messages={"required": _("Choose at least one event.")},
    )
    active = forms.BooleanField(label=_("Active"), required=False, initial=True)

    @classmethod
    def for_endpoint(cls, endpoint: WebhookEndpoint, data=None) -> "WebhookEndpointForm":
        initial = {"url": endpoint.url, "events": endpoint.events, "active": endpoint.active}
        return cls(data, initial=initial)

    def clean_url(self) -> str:
        url = self.cleaned_data["url"]
        check_url(url)
        return url
