"""How rows are kept in the shared cache and forgotten when they change.

The shared cache is django-redis with IGNORE_EXCEPTIONS (settings.py): everything cached can
be recomputed (statistics, unread counts, rows the database holds) or is written through to
the database (sessions), so when Redis is down the site carries on more slowly instead of
answering 500: reads miss, writes are skipped, and it is logged. Not every django-redis
operation does so: use only those tests/test_shared_cache.py checks (touch(), for one, raises).
"""

from collections.abc import Callable
from typing import TypeVar

from django.core.cache import cache
from django.db import transaction

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
