"""A shared cache the site survives losing.

Everything cached here can be recomputed (statistics, unread counts) or is written
through to the database (sessions), so when Redis is down the site carries on more
slowly instead of answering 500: reads miss, writes are skipped, and it is logged.
"""

import copy
import functools
import logging

from django.core.cache.backends.redis import RedisCache
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


class TolerantRedisCache(RedisCache):
    """Django's RedisCache; a Redis outage makes it a cache that misses."""


# Each operation of the cache API, wrapped: on a Redis error it answers as a miss would.
for _name, _fallback in FALLBACKS.items():
    setattr(TolerantRedisCache, _name, _tolerant(getattr(RedisCache, _name), _fallback))
