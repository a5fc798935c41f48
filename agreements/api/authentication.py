"""``Authorization: Bearer dra_…``: the unit's key, checked at every call."""

from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework.authentication import BaseAuthentication, get_authorization_header
from rest_framework.exceptions import AuthenticationFailed

from employers.api_tokens import api_token_for_key, prefix_of
from employers.models import ApiToken

# last_used_at is written at most this often per key (not one row write per call).
TOUCH_EVERY_SECONDS = 60

REFUSED = {
    "revoked": gettext_lazy("This API key has been revoked."),
    "expired": gettext_lazy("This API key has expired."),
    "ended": gettext_lazy(
        "This API key no longer works: its creator has left the unit or is no longer an "
        "administrator."
    ),
}


class ApiKeyAuthentication(BaseAuthentication):
    """Who calls: the key's creator (a unit administrator), with the key as ``request.auth``.
    The key found (even one refused) is kept on the request for the call log."""

    def authenticate(self, request):
        header = get_authorization_header(request)
        if not header:
            return None
        keyword, _space, key = header.decode("latin-1").partition(" ")
        key = key.strip()
        if keyword.lower() != "bearer" or not key or " " in key:
            raise AuthenticationFailed(_("Send the key as: Authorization: Bearer <key>."))
        request._request.api_prefix = prefix_of(key)
        token = api_token_for_key(key)
        if token is None:
            raise AuthenticationFailed(_("Unknown API key."))
        request._request.api_token = token
        if token.state != "active":
            raise AuthenticationFailed(str(REFUSED[token.state]))
        now = timezone.now()
        if token.last_used_at is None or (now - token.last_used_at).total_seconds() > (
            TOUCH_EVERY_SECONDS
        ):
            ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
        return token.created_by, token

    def authenticate_header(self, request) -> str:
        return 'Bearer realm="api"'


class ApiKeyScheme(OpenApiAuthenticationExtension):
    """How the schema describes the key (drf-spectacular finds it by ``target_class``)."""

    target_class = ApiKeyAuthentication
    name = "apiKey"

    def get_security_definition(self, auto_schema):
        return {
            "type": "http",
            "scheme": "bearer",
            "description": "A unit's API key (dra_…), made by a unit administrator.",
        }
