"""Who is on the other end of a request."""

from django.http import HttpRequest


def client_ip(request: HttpRequest) -> str:
    """The client's address, for rate limits and audit.

    For now the direct peer (``REMOTE_ADDR``); behind a reverse proxy that is the proxy, so
    every caller goes through this one function and becomes proxy-aware when it does.
    """
    return request.META.get("REMOTE_ADDR", "") or ""
