"""One try of a delivery: refuse addresses inside our network, POST the signed body with
short timeouts and a deadline for the whole try (the name's resolution, every address tried,
the answer), record the answer and schedule the next try (exponential backoff).

A try is claimed before the network is touched (``next_attempt_at`` pushed past the try's
longest duration under the row lock), so a worker and ``manage.py send_webhooks`` never send
the same try twice at once, and no transaction stays open while the receiver answers.
"""

import contextlib
import ipaddress
import socket
import threading
import time
from contextvars import ContextVar
from datetime import datetime, timedelta
from urllib.parse import urlsplit

import requests
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from requests.adapters import HTTPAdapter
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool
from urllib3.exceptions import ConnectTimeoutError, NewConnectionError

from agreements.webhooks.models import BACKOFF, MAX_ATTEMPTS, DeliveryStatus, WebhookDelivery
from agreements.webhooks.signing import (
    DELIVERY_HEADER,
    EVENT_HEADER,
    SIGNATURE_HEADER,
    TIMESTAMP_HEADER,
    body_of,
    signature,
)

TIMEOUT = (5, 5)  # connect, read (seconds); the whole try gets their sum (_Deadline)
CLAIM = timedelta(minutes=1)  # longer than a try can take
USER_AGENT = "destreg-webhooks/1"
LOCALHOSTS = {"127.0.0.1", "localhost", "::1"}


class RefusedAddress(Exception):
    """The endpoint's address points inside our own network (SSRF)."""


def allows_plain_http(host: str) -> bool:
    return settings.WEBHOOK_ALLOW_HTTP_LOCALHOST and host in LOCALHOSTS


def check_url(url: str) -> None:
    """What can be refused without the network (the form's check): HTTPS only (plain HTTP to
    this machine only where WEBHOOK_ALLOW_HTTP_LOCALHOST is on), no credentials, and no
    address literal or name of a private, loopback, link-local or reserved network."""
    parts = urlsplit(url)
    host = (parts.hostname or "").lower()
    if not host:
        raise ValidationError(_("Enter the full address, starting with https://."))
    if parts.username or parts.password:
        raise ValidationError(_("The address may not contain a user name or password."))
    try:
        parts.port  # noqa: B018 - raises ValueError for a port out of range
    except ValueError:
        raise ValidationError(_("This address's port is not valid.")) from None
    if allows_plain_http(host) and parts.scheme in ("http", "https"):
        return
    if parts.scheme != "https":
        raise ValidationError(_("Only https:// addresses receive webhooks."))
    if host in LOCALHOSTS or host.endswith((".localhost", ".local", ".internal")):
        raise ValidationError(_("This address is inside a private network; use a public one."))
    try:
        address = ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return  # a name: resolved and checked again at every try
    if not _is_public(address):
        raise ValidationError(_("This address is inside a private network; use a public one."))


# NAT64's well-known prefix: a gateway translates 64:ff9b::a.b.c.d to IPv4 a.b.c.d.
NAT64 = ipaddress.ip_network("64:ff9b::/96")
# Global unicast: the only IPv6 range with public addresses. Outside it, Python 3.11 calls
# some forms "global" that lead inside (IPv4-compatible ::a.b.c.d, ::ffff:0:a.b.c.d,
# local-use NAT64 64:ff9b:1::/48, site-local fec0::/10).
GLOBAL_UNICAST = ipaddress.ip_network("2000::/3")


def _is_public(address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    """Globally reachable (``is_global``: not private, loopback, link-local, reserved, nor the
    carrier-grade 100.64.0.0/10 where cloud metadata services live), and not multicast; an
    IPv6 address wrapping an IPv4 one (mapped, NAT64, 6to4, Teredo) is judged by the one it
    wraps, and any other IPv6 address must be global unicast (2000::/3)."""
    if isinstance(address, ipaddress.IPv6Address):
        wrapped = address.ipv4_mapped or address.sixtofour or (address.teredo or (None, None))[1]
        if wrapped is None and address in NAT64:
            wrapped = ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
        if wrapped is not None:
            address = wrapped
        elif address not in GLOBAL_UNICAST:
            return False
    return address.is_global and not address.is_multicast


def check_destination(url: str, timeout: float | None = None) -> list[str]:
    """At send time: the address again, and every address its name resolves to (within
    ``timeout`` seconds). Returns those addresses: the try connects to them and to nothing a
    later resolution might say."""
    try:
        check_url(url)
    except ValidationError as error:
        raise RefusedAddress(error.messages[0]) from None
    parts = urlsplit(url)
    host = (parts.hostname or "").lower()
    addresses = [info[4][0] for info in _resolve(host, parts.port or 443, timeout)]
    if not allows_plain_http(host):
        for address in addresses:
            if not _is_public(ipaddress.ip_address(address)):
                raise RefusedAddress(_("The address resolves inside a private network."))
    return addresses


def _resolve(host: str, port: int, timeout: float | None) -> list:
    """``socket.getaddrinfo`` waited for at most ``timeout`` seconds: it has no timeout of
    its own, so it runs in a thread of its own, left to finish alone if it takes too long."""
    found: dict = {}

    def resolve() -> None:
        try:
            found["infos"] = socket.getaddrinfo(host, port, proto=socket.IPPROTO_TCP)
        except (OSError, UnicodeError):  # UnicodeError: a label IDNA cannot encode
            found["infos"] = None

    resolving = threading.Thread(target=resolve, daemon=True)
    resolving.start()
    resolving.join(timeout)
    if resolving.is_alive():
        raise RefusedAddress(_("The address's name did not resolve in time."))
    if not found.get("infos"):  # nothing found, or the resolution failed some other way
        raise RefusedAddress(_("The address's name does not resolve."))
    return found["infos"]


PRIVATE_PEER = "refused: the peer is inside a private network"


class _Deadline:
    """A time limit for the whole try. requests' timeouts bound each socket operation, not
    the answer: a receiver sending its status line a byte at a time could hold the worker for
    ever (and, past CLAIM, get the same try again from the next sender). When the time is up,
    a timer shuts the try's connections down, which ends the read or write waiting on them;
    ``passed`` then tells the try it timed out. The timer is stopped and joined on exit.

    It also carries the addresses the try may connect to (``check_destination``'s), which
    the connection tries in turn while time is left."""

    def __init__(self, seconds: float) -> None:
        self.passed = False
        self.addresses: list[str] = []
        self._seconds = seconds
        self._ends = time.monotonic() + seconds
        self._sockets: list[socket.socket] = []
        self._lock = threading.Lock()
        self._timer = threading.Timer(seconds, self._expire)
        self._timer.daemon = True

    def __enter__(self) -> "_Deadline":
        self._watching = _current_deadline.set(self)
        self._ends = time.monotonic() + self._seconds
        self._timer.start()
        return self

    def remaining(self) -> float:
        return self._ends - time.monotonic()

    def __exit__(self, *exc_info) -> None:
        self._timer.cancel()
        self._timer.join()
        _current_deadline.reset(self._watching)
        for sock in self._sockets:
            sock.close()

    def watch(self, sock: socket.socket) -> None:
        # A duplicate: TLS takes the socket itself over (detaching it), but shutting the
        # duplicate down shuts the one connection down all the same.
        with self._lock:
            self._sockets.append(sock.dup())
            if self.passed:
                self._shut(self._sockets[-1])

    def _expire(self) -> None:
        with self._lock:
            self.passed = True
            for sock in self._sockets:
                self._shut(sock)

    @staticmethod
    def _shut(sock: socket.socket) -> None:
        with contextlib.suppress(OSError):  # already closed by the other side
            sock.shutdown(socket.SHUT_RDWR)


_current_deadline: ContextVar[_Deadline | None] = ContextVar("webhook_deadline", default=None)


class _CheckedPeer:
    """Connections to the addresses the try checked (never to what a second resolution of the
    name says), one after the other while the deadline leaves time, each attempt within what
    is left; and a look at the address actually connected to, before a byte is sent, refusing
    one inside our network (a name that resolved to a public address at the check and to a
    private one a moment later, DNS rebinding, gets nothing)."""

    host: str
    timeout: float | None
    _dns_host: str

    def _new_conn(self):
        deadline = _current_deadline.get()
        sock = self._connect_in_time(deadline) if deadline else super()._new_conn()  # type: ignore[misc]
        peer = ipaddress.ip_address(sock.getpeername()[0])
        if not (_is_public(peer) or (allows_plain_http(self.host) and peer.is_loopback)):
            sock.close()
            raise NewConnectionError(self, PRIVATE_PEER)  # type: ignore[arg-type]
        if deadline is not None:
            deadline.watch(sock)
        return sock

    def _connect_in_time(self, deadline: _Deadline):
        connect_timeout, name = self.timeout, self._dns_host
        failed: Exception = ConnectTimeoutError(self, "the try's deadline passed")
        try:
            for address in deadline.addresses:
                left = deadline.remaining()
                if left <= 0:
                    break
                self._dns_host = address
                self.timeout = left if connect_timeout is None else min(connect_timeout, left)
                try:
                    return super()._new_conn()  # type: ignore[misc]
                except (ConnectTimeoutError, NewConnectionError) as error:
                    failed = error
        finally:
            self.timeout, self._dns_host = connect_timeout, name
        raise failed


class _CheckedHTTPConnection(_CheckedPeer, HTTPConnection):
    pass


class _CheckedHTTPSConnection(_CheckedPeer, HTTPSConnection):
    pass


class _CheckedHTTPPool(HTTPConnectionPool):
    ConnectionCls = _CheckedHTTPConnection


class _CheckedHTTPSPool(HTTPSConnectionPool):
    ConnectionCls = _CheckedHTTPSConnection


class _CheckedAdapter(HTTPAdapter):
    def init_poolmanager(self, *args, **kwargs) -> None:
        super().init_poolmanager(*args, **kwargs)
        self.poolmanager.pool_classes_by_scheme = {  # type: ignore[attr-defined]
            "http": _CheckedHTTPPool,
            "https": _CheckedHTTPSPool,
        }


def _session() -> requests.Session:
    session = requests.Session()
    # No proxy from the environment: the peer checked must be the receiver itself.
    session.trust_env = False
    adapter = _CheckedAdapter()
    session.mount("http://", adapter)
    session.mount("https://", adapter)
    return session


def next_attempt_after(attempts: int, now: datetime) -> datetime | None:
    """When to try again after ``attempts`` failed tries; None once they are used up."""
    if attempts >= MAX_ATTEMPTS:
        return None
    return now + BACKOFF[attempts - 1]


def claim(delivery_id: int, now: datetime) -> WebhookDelivery | None:
    """Take the delivery's next try if it is due."""
    with transaction.atomic():
        delivery = (
            WebhookDelivery.objects.select_for_update(of=("self",))
            .select_related("endpoint")
            .filter(pk=delivery_id, status__in=WebhookDelivery.OPEN)
            .first()
        )
        if delivery is None:
            return None
        if delivery.next_attempt_at is not None and delivery.next_attempt_at > now:
            return None
        delivery.next_attempt_at = now + CLAIM
        delivery.save(update_fields=["next_attempt_at"])
        return delivery


def post(delivery: WebhookDelivery) -> tuple[int | None, str]:
    """Send once: (response code, error text); the code is None when nothing answered."""
    endpoint = delivery.endpoint
    with _Deadline(sum(TIMEOUT)) as deadline:
        try:
            deadline.addresses = check_destination(endpoint.url, timeout=deadline.remaining())
        except RefusedAddress as refused:
            return None, str(refused)
        body = body_of(delivery.payload)
        timestamp = int(time.time())
        headers = {
            "Content-Type": "application/json; charset=utf-8",
            "User-Agent": USER_AGENT,
            TIMESTAMP_HEADER: str(timestamp),
            SIGNATURE_HEADER: signature(endpoint.secret, timestamp, body),
            EVENT_HEADER: delivery.event,
            DELIVERY_HEADER: str(delivery.uuid),
        }
        try:
            # No redirects: a 3xx to an internal address must not be followed (SSRF).
            with (
                _session() as session,
                session.post(
                    endpoint.url,
                    data=body,
                    headers=headers,
                    timeout=TIMEOUT,
                    allow_redirects=False,
                    stream=True,  # the answer's body is not read
                ) as response,
            ):
                code = response.status_code
        except requests.RequestException as error:
            if deadline.passed or isinstance(error, requests.Timeout):
                return None, _("The endpoint did not answer in time.")
            if PRIVATE_PEER in str(error):
                return None, _("The address resolves inside a private network.")
            return None, (_("Could not connect: %(error)s") % {"error": type(error).__name__})
    if deadline.passed:  # what came before the deadline cut it off may look like an answer
        return None, _("The endpoint did not answer in time.")
    if 200 <= code < 300:
        return code, ""
    return code, _("The endpoint answered %(code)s.") % {"code": code}


def attempt(delivery_id: int) -> str | None:
    """Make the delivery's next try if it is due; returns its status afterwards (None when
    nothing was due). Schedules the following try on a backend that can wait (run_after)."""
    delivery = claim(delivery_id, timezone.now())
    if delivery is None:
        return None
    if not delivery.endpoint.active:
        code, error = None, _("The endpoint is turned off.")
        give_up = True
    else:
        code, error = post(delivery)
        give_up = False
    now = timezone.now()
    with transaction.atomic():
        delivery = WebhookDelivery.objects.select_for_update().get(pk=delivery.pk)
        delivery.attempts += 1
        delivery.last_attempt_at = now
        delivery.attempt_times = [*delivery.attempt_times, now.isoformat()]
        delivery.response_code = code
        delivery.last_error = error[:200]
        if not error:
            delivery.status, delivery.next_attempt_at = DeliveryStatus.SUCCEEDED, None
        else:
            later = None if give_up else next_attempt_after(delivery.attempts, now)
            delivery.status = DeliveryStatus.FAILED if later else DeliveryStatus.GIVEN_UP
            delivery.next_attempt_at = later
            if later is not None:
                transaction.on_commit(lambda: retry_at(delivery.pk, later))
        delivery.save(
            update_fields=[
                "attempts",
                "last_attempt_at",
                "attempt_times",
                "response_code",
                "last_error",
                "status",
                "next_attempt_at",
            ]
        )
    return delivery.status


def retry_at(delivery_id: int, when: datetime) -> None:
    """Queue the next try for ``when`` where the backend can wait; otherwise (the in-process
    backend) ``manage.py send_webhooks``, run every minute, sends it once due."""
    from agreements.webhooks.tasks import deliver_webhook

    if deliver_webhook.get_backend().supports_defer:
        deliver_webhook.using(run_after=when).enqueue(delivery_id)


def send_due(now: datetime | None = None) -> int:
    """Try every delivery whose next try is due (the periodic job); how many were tried."""
    due = WebhookDelivery.objects.filter(
        status__in=WebhookDelivery.OPEN, next_attempt_at__lte=now or timezone.now()
    ).values_list("pk", flat=True)
    return sum(attempt(pk) is not None for pk in list(due))
