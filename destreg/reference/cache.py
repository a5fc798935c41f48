"""Reference rows (codes, regions, schools, colleges, majors) kept in each process.

A graduate's registry record points at ten of them. Joining ten tables costs the page more
than everything else it shows (Django compiles the join anew on every request), yet these rows
change a few times a year, through the admin or ``load_reference``. So each process keeps the
rows it has read for ``REFERENCE_CACHE_SECONDS``; a save or delete in the process forgets the
row at once, and other processes see the change when their copy expires.

Callers get their own copy of each row, so nothing they do leaks to other requests.
"""

import copy
import functools
import threading
import time
from collections import defaultdict
from collections.abc import Iterable
from typing import Any, TypeVar

from django.conf import settings
from django.db import models

from destreg.reference.models import Code, College, Major, Region, School
from destreg.reference.regions import forget_tree

REFERENCE_MODELS = (Code, Region, School, College, Major)

M = TypeVar("M", bound=models.Model)

Key = tuple[Any, Any]  # (model, primary key)
_rows: dict[Key, tuple[float, models.Model]] = {}
_lock = threading.Lock()


def attach(instances: Iterable[M]) -> list[M]:
    """Fill each instance's foreign keys to reference tables, as ``select_related`` would.

    Rows this process does not hold (or holds for too long) are read in one query per
    table. Returns the instances as a list."""
    instances = list(instances)
    if not instances:
        return instances
    fields = _reference_fields(type(instances[0]))
    now = time.monotonic()
    missing: dict[Any, set] = defaultdict(set)
    found: dict[Key, models.Model] = {}
    for instance in instances:
        for field in fields:
            key = (field.related_model, getattr(instance, field.attname))
            if key[1] is None or key in found:
                continue
            entry = _rows.get(key)
            if entry is not None and entry[0] > now:
                found[key] = entry[1]
            else:
                missing[key[0]].add(key[1])
    expires = now + settings.REFERENCE_CACHE_SECONDS
    for model, pks in missing.items():
        rows = model._default_manager.in_bulk(pks)
        with _lock:
            for pk, row in rows.items():
                _rows[(model, pk)] = (expires, row)
                found[(model, pk)] = row
    for instance in instances:
        for field in fields:
            cached = found.get((field.related_model, getattr(instance, field.attname)))
            if cached is not None:
                field.set_cached_value(instance, copy.copy(cached))
    return instances


@functools.cache
def _reference_fields(model: type[models.Model]) -> list[Any]:
    """The model's foreign keys to reference tables (looked up once per model)."""
    return [
        field
        for field in model._meta.concrete_fields
        if field.many_to_one and field.related_model in REFERENCE_MODELS
    ]


def attach_one(instance: M) -> M:
    attach([instance])
    return instance


def forget(model: type[models.Model], pk: Any) -> None:
    """A reference row was saved or deleted in this process (destreg/invalidation.py)."""
    with _lock:
        _rows.pop((model, pk), None)
    if model is Region:
        forget_tree()


def clear() -> None:
    with _lock:
        _rows.clear()
    forget_tree()
