"""Reads that may come from a PostgreSQL streaming replica (``DATABASE_REPLICA_URL``).

Everything goes to the primary ("default") unless a block of code says otherwise with
``reads_from_replica()`` (a context manager and a decorator). Inside it, plain reads go to
the "replica" alias; the primary still serves

- every write, and every ``select_for_update()`` (Django asks the router for the write
  database then);
- every read inside a transaction (``transaction.atomic`` on the primary): a service locks,
  checks and writes what it read, so it must read what is committed now;
- every read of a request whose browser wrote a moment ago (``ReadYourWritesMiddleware``
  pins it for ``REPLICA_READ_YOUR_WRITES_SECONDS``), so a user who just decided, imported
  or saved sees their own change on the next page;
- every read while the replica lags more than ``REPLICA_MAX_LAG_SECONDS``, or cannot be
  reached (checked once per block, on its first read).

What uses the replica, and why it may:

- the statistics page and its dashboards (``reviews.stats``: the figures of a scope) and the
  reporting-date figures (``cached_as_of``): aggregates over every graduate of a school,
  already cached for minutes and shown with the time they were computed;
- exports (the page that follows an export's progress, and the background job that reads
  the graduates) and the annual report's background job: long reads of many rows, as of the
  moment they started;
- the 核查 page's red flags (``reviews.flags``; its explanations are read from the primary:
  a note shows at once) and the graduates behind a flag;
- the provincial and Ministry oversight pages (``reviews.oversight_views``): read-only
  figures over many schools, whose readers decide nothing.

Why nothing else may: every other page either shows what its reader has just changed or
what another party is about to act on (an invitation, a review queue, a decision page); a
few seconds of lag there shows a state that is no longer true, and a button built from it
would be refused. A lag smaller than ``destreg.lib.cache.FORGOTTEN_SECONDS`` also keeps
cached statistics honest: a change marks them forgotten for that long, so figures computed
on the replica after the mark has expired include the change.
"""

import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db import DatabaseError, connections

PRIMARY = "default"
REPLICA = "replica"
# Set on a response to a request that may have written (any unsafe method).
WROTE_COOKIE = "destreg_wrote"
CLOCK_SKEW_SECONDS = 5
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "TRACE"})


def replica_database(primary: Mapping[str, Any], replica: Mapping[str, Any]) -> Any:
    """The "replica" alias: the replica's address with the primary's other options, and a
    test mirror of "default" (the test suite makes no second database; see
    ``replica_is_separate``)."""
    return {
        **primary,
        **replica,
        "OPTIONS": dict(primary.get("OPTIONS", {})),
        "TEST": {"MIRROR": PRIMARY},
    }


@dataclass
class _Scope:
    """One ``reads_from_replica`` block: whether its replica is usable, decided on its first
    read."""

    usable: bool | None = None


_scope: ContextVar[_Scope | None] = ContextVar("destreg_replica_scope", default=None)
_pinned: ContextVar[bool] = ContextVar("destreg_replica_pinned", default=False)


def replica_is_separate() -> bool:
    """Whether a replica is configured that is another database than the primary. Under
    tests the alias mirrors "default" (same name, host and port): then reading through the
    primary's own connection sees the test's uncommitted rows."""
    if not replica_configured():
        return False
    replica, primary = connections[REPLICA].settings_dict, connections[PRIMARY].settings_dict
    return another_database(replica, primary)


def replica_configured() -> bool:
    return REPLICA in connections.settings


def another_database(replica: dict[str, Any], primary: dict[str, Any]) -> bool:
    return any(replica.get(key) != primary.get(key) for key in ("NAME", "HOST", "PORT"))


def replica_lag_seconds() -> float:
    """How far behind the replica's replay is, in seconds (0 when it has replayed
    everything it received; an idle primary sends nothing, so that is no lag either)."""
    with connections[REPLICA].cursor() as cursor:
        cursor.execute(
            "SELECT CASE WHEN pg_last_wal_receive_lsn() = pg_last_wal_replay_lsn() THEN 0"
            " ELSE EXTRACT(EPOCH FROM now() - pg_last_xact_replay_timestamp()) END"
        )
        (lag,) = cursor.fetchone()
    return float(lag or 0)


def _replica_usable() -> bool:
    try:
        return replica_lag_seconds() <= settings.REPLICA_MAX_LAG_SECONDS
    except DatabaseError:  # replica down or not a standby: the primary answers instead
        connections[REPLICA].close()
        return False


@contextmanager
def reads_from_replica() -> Iterator[None]:
    """Within this block (or decorated view or task), plain reads outside transactions go to
    the replica when one is configured, caught up and not pinned away (see the module)."""
    token = _scope.set(_Scope())
    try:
        yield
    finally:
        _scope.reset(token)


@contextmanager
def pinned_to_primary() -> Iterator[None]:
    """Within this block every read goes to the primary, even inside ``reads_from_replica``
    (a request that has just written: read-your-writes)."""
    token = _pinned.set(True)
    try:
        yield
    finally:
        _pinned.reset(token)


def read_alias() -> str:
    """Where a plain read goes now (the router's answer)."""
    scope = _scope.get()
    if scope is None or _pinned.get() or not replica_is_separate():
        return PRIMARY
    if connections[PRIMARY].in_atomic_block:  # a transaction reads what it writes
        return PRIMARY
    if scope.usable is None:
        scope.usable = _replica_usable()
    return REPLICA if scope.usable else PRIMARY


class ReplicaRouter:
    """DATABASE_ROUTERS entry when DATABASE_REPLICA_URL is set."""

    def db_for_read(self, model, **hints) -> str:
        return read_alias()

    def db_for_write(self, model, **hints) -> str:
        return PRIMARY

    def allow_relation(self, obj1, obj2, **hints) -> bool:
        # Both aliases hold the same rows: a record read from the replica may point to a
        # row of the primary and be saved there.
        return True

    def allow_migrate(self, db: str, app_label: str, **hints) -> bool:
        return db == PRIMARY  # the replica follows the primary's schema by streaming


def wrote_recently(cookie: str | None) -> bool:
    """Whether the "wrote" cookie says this browser wrote within the read-your-writes time."""
    if not cookie:
        return False
    try:
        wrote_at = float(cookie)
    except ValueError:
        return False
    # A little before "now" too: the cookie's time is rounded, and another app server's
    # clock may be a moment behind the one that set it.
    return -CLOCK_SKEW_SECONDS <= time.time() - wrote_at < settings.REPLICA_READ_YOUR_WRITES_SECONDS


class ReadYourWritesMiddleware:
    """Keeps a browser that has just written on the primary.

    A request with an unsafe method (POST …) may write: it reads from the primary, and its
    response sets a short-lived cookie with the time; for as long as the cookie is fresh the
    browser's requests read from the primary too, so the page after a change shows it even
    while the replica lags. The cookie only chooses a database: forging or dropping it
    moves the browser's reads between two copies of the same data it may see anyway.
    Without a replica it does nothing.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if not replica_configured():
            return self.get_response(request)
        wrote = request.method not in SAFE_METHODS
        if not (wrote or wrote_recently(request.COOKIES.get(WROTE_COOKIE))):
            return self.get_response(request)
        with pinned_to_primary():
            response = self.get_response(request)
        if wrote:
            response.set_cookie(
                WROTE_COOKIE,
                f"{time.time():.3f}",
                max_age=settings.REPLICA_READ_YOUR_WRITES_SECONDS,
                secure=settings.SESSION_COOKIE_SECURE,
                httponly=True,
                samesite="Lax",
            )
        return response
