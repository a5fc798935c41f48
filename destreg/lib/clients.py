"""Who is asking: the client's address, as far as the trusted proxies vouch for it.

Behind nginx (docs/deploy.md) every request comes from nginx's own address; nginx appends the
address it saw to ``X-Forwarded-For``. With ``TRUSTED_PROXY_COUNT`` proxies in front, the client
is the entry that the outermost trusted proxy appended: the N-th from the right. Anything to the
left of it was written by the client and proves nothing; with no trusted proxy the header is
ignored altogether.

django-ipware counts proxies differently (its ``proxy_count`` counts proxy addresses listed
inside the header, and with a count of 0 it takes the left-most, client-written entry), which is
wrong for nginx's ``$proxy_add_x_forwarded_for``; so the rule is written out here, as Werkzeug's
ProxyFix does it.
"""

from ipaddress import ip_address

from django.conf import settings


def client_ip(request) -> str:
    """The client's address for throttling and audit (``REMOTE_ADDR`` without trusted proxies)."""
    remote = request.META.get("REMOTE_ADDR", "")
    count = settings.TRUSTED_PROXY_COUNT
    if count == 0:
        return remote
    chain = [part.strip() for part in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")]
    if len(chain) < count:  # the request did not come through every trusted proxy
        return remote
    candidate = chain[-count]
    try:
        return str(ip_address(candidate))
    except ValueError:
        return remote
