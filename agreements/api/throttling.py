"""``API_RATE_PER_MINUTE`` calls per key and minute, and as many refused calls per client
address (an IPv6 client's /64), counted in the default cache."""

from ipaddress import ip_address, ip_network

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
        return self.cache_format % {"scope": self.scope, "ident": _network(client_ip(request))}


def _network(address: str) -> str:
    """An IPv6 client is given a whole /64 (and picks any address in it at will): its
    addresses share one budget, as an IPv4 client's one address has."""
    try:
        ip = ip_address(address)
    except ValueError:
        return address
    if ip.version == 6 and ip.ipv4_mapped is None:
        return str(ip_network(f"{ip}/64", strict=False))
    return str(ip)
