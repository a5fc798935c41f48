"""A shared cache the site survives losing.

Everything cached here can be recomputed (statistics, unread counts) or is written
through to the database (sessions), so when Redis is down the site carries on more
slowly instead of answering 500: reads miss, writes are skipped, and it is logged.
"""

import copy
import functools
import logging

from django.core.cache.backends.redis import RedisCache, RedisCacheClient
from redis.exceptions import RedisError

logger = logging.getLogger(__name__)

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
