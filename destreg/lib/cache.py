"""A shared cache the site survives losing, and how rows are kept in it.

Everything cached here can be recomputed (statistics, unread counts, rows the database
holds) or is written through to the database (sessions), so when Redis is down the site
carries on more slowly instead of answering 500: reads miss, writes are skipped, and it is
logged.
"""

import copy
import functools
import logging
from collections.abc import Callable
from typing import TypeVar

from django.core.cache import cache
from django.core.cache.backends.redis import RedisCache, RedisCacheClient
from django.db import transaction
from redis.exceptions import RedisError

logger = logging.getLogger(__name__)

T = TypeVar("T")

# After a change, nobody may cache the entry for this long: a request that read the old rows
# just before the change commits would otherwise put them back (see forget).
FORGOTTEN_SECONDS = 10
FORGOTTEN = "forgotten"


def remember(key: str, read: Callable[[], T], seconds: int) -> T:
    """The cached value of ``key``, or ``read()``, cached for ``seconds`` unless the key is
    marked forgotten (then the database is read and nothing is cached). ``None`` is never
    cached."""
    value = cache.get(key)
    if value is None or value == FORGOTTEN:
        value = read()
        if value is not None:
            cache.add(key, value, seconds)  # not over a FORGOTTEN mark
    return value


def forget(*keys: str) -> None:
    """Mark the keys forgotten now and again once the change is committed. Until the mark
    expires, ``remember`` reads the database and caches nothing, so a request that read the
    old rows before the commit cannot put them back."""
    if not keys:
        return
    marks = dict.fromkeys(keys, FORGOTTEN)
    cache.set_many(marks, FORGOTTEN_SECONDS)
    transaction.on_commit(lambda: cache.set_many(marks, FORGOTTEN_SECONDS))


# What each operation answers while Redis is unreachable.
FALLBACKS: dict[str, object] = {
    "add": False,
    "get": None,
    "set": None,
    "touch": False,
    "delete": False,
    "get_many": {},
    "has_key": False,
    "set_many": [],
    "delete_many": None,
    "clear": None,
    "incr": None,  # a counter (rate limit) that cannot count lets the request through
}


def _tolerant(method, fallback):
    @functools.wraps(method)
    def wrapper(self, *args, **kwargs):
        try:
            return method(self, *args, **kwargs)
        except RedisError as error:
            logger.warning("cache unavailable, %s skipped: %s", method.__name__, error)
            if method.__name__ == "get":  # get(key, default=None, ...)
                return kwargs.get("default", args[1] if len(args) > 1 else None)
            return copy.copy(fallback)  # never share a mutable {} or []

    return wrapper


class ReusingRedisCacheClient(RedisCacheClient):
    """Django's client builds a new redis.Redis (and its table of ~170 reply callbacks) for
    every operation; a Redis object is thread-safe, so keep one per connection pool."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._clients: dict[int, object] = {}

    # The private helpers used here are Django's own, but not in django-stubs.
    def get_client(self, key=None, *, write=False):
        index = self._get_connection_pool_index(write)  # type: ignore[attr-defined]
        if index not in self._clients:
            pool = self._get_connection_pool(write)  # type: ignore[attr-defined]
            self._clients[index] = self._client(connection_pool=pool)  # type: ignore[attr-defined]
        return self._clients[index]


class TolerantRedisCache(RedisCache):
    """Django's RedisCache; a Redis outage makes it a cache that misses."""

    def __init__(self, server, params):
        super().__init__(server, params)
        self._class = ReusingRedisCacheClient


# Each operation of the cache API, wrapped: on a Redis error it answers as a miss would.
for _name, _fallback in FALLBACKS.items():
    setattr(TolerantRedisCache, _name, _tolerant(getattr(RedisCache, _name), _fallback))
