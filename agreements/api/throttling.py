"""``API_RATE_PER_MINUTE`` calls per key and minute, and as many refused calls per client
address, counted in the default cache."""

from django.conf import settings
from rest_framework.throttling import SimpleRateThrottle

from destreg.lib.clients import client_ip
from employers.models import ApiToken


class _PerMinute(SimpleRateThrottle):
    def get_rate(self) -> str:
        # Read at each call (not frozen at import), so the setting can change.
        return f"{settings.API_RATE_PER_MINUTE}/min"


class PerKeyThrottle(_PerMinute):
    scope = "api_key"

    def get_cache_key(self, request, view) -> str | None:
        token = request.auth
        if not isinstance(token, ApiToken):
            return None  # refused before this anyway
        return self.cache_format % {"scope": self.scope, "ident": token.pk}


class RefusedCallThrottle(_PerMinute):
    """Calls refused before a key is recognised (no key; a malformed, unknown, revoked,
    expired or ended one) never reach ``PerKeyThrottle``: they are counted per client address
    instead. Only refusals count, so a working key is never held back by them."""

    scope = "api_refused"

    def get_cache_key(self, request, view) -> str:
        return self.cache_format % {"scope": self.scope, "ident": client_ip(request)}
