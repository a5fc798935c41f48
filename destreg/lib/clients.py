"""Who is on the other end of a request."""


def client_ip(request) -> str:
    """The client's address, for per-client limits and logs. For now the direct peer
    (``REMOTE_ADDR``); behind a reverse proxy this is the proxy."""
    return request.META.get("REMOTE_ADDR", "")
