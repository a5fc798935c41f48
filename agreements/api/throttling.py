"""``API_RATE_PER_MINUTE`` calls per key and minute, counted in the default cache."""

from django.conf import settings
from rest_framework.throttling import SimpleRateThrottle

from employers.models import ApiToken


class PerKeyThrottle(SimpleRateThrottle):
    scope = "api_key"

    def get_rate(self) -> str:
        # Read at each call (not frozen at import), so the setting can change.
        return f"{settings.API_RATE_PER_MINUTE}/min"

    def get_cache_key(self, request, view) -> str | None:
        token = request.auth
        if not isinstance(token, ApiToken):
            return None  # refused before this anyway
        return self.cache_format % {"scope": self.scope, "ident": token.pk}
