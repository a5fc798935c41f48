"""The destination tallies' upkeep and their recount (students.models.DestinationTally, and
SchoolTally: the same counts per school, for the provincial and national pages).

Every write of a registry record's counted fields (COUNTED) goes through one of the
functions here, inside the writer's transaction: they read the records' keys before and
after and hand the difference to ``tally_apply``, the one function that changes counters
(at both levels).

Locks: ``tally_apply`` updates counters in a fixed key order, so two transactions that touch
the same counters (two approvals in one college) wait for each other instead of
deadlocking; the counter rows stay locked until the writer commits, so callers run it as
late in their transaction as they can.

The nightly ``manage.py recount_tallies`` compares the counters with ``recount`` (one GROUP
BY over the records) and reports any difference, which must be none.
"""

from collections import Counter
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db import IntegrityError, connection, transaction
from django.db.models import Count, F, Model, QuerySet

from students.models import DestinationTally, RegistryRecord, SchoolTally

# A key: (graduation_year, school, college, major, education level, gender, destination).
Key = tuple[int, int, int, int, int, int, int | None]
COUNTED = (
    "graduation_year",
    "school_id",
    "college_id",
    "major_id",
    "education_level_id",
    "gender",
    "destination_id",
)
# The same fields as a save's update_fields may name them.
COUNTED_FIELDS = frozenset(COUNTED) | {name.removesuffix("_id") for name in COUNTED}


@dataclass(frozen=True)
class Level:
    """A table of counters and the counted fields its key keeps (a subset of COUNTED, in
    COUNTED's order)."""

    model: type[Model]
    fields: tuple[str, ...]

    def key(self, key: Key) -> tuple:
        """A record's full key cut down to this level's."""
        return tuple(value for name, value in zip(COUNTED, key, strict=True) if name in self.fields)

    def where(self, key: tuple) -> dict[str, Any]:
        return dict(zip(self.fields, key, strict=True))


# Every writer updates both, in this order (and each in key order): no deadlocks.
MAJORS = Level(DestinationTally, COUNTED)
SCHOOLS = Level(
    SchoolTally,
    ("graduation_year", "school_id", "education_level_id", "gender", "destination_id"),
)
LEVELS = (MAJORS, SCHOOLS)

_upkeep = ContextVar("tally_upkeep", default=True)


@contextmanager
def upkeep_paused() -> Iterator[None]:
    """Leave the counters alone inside this block: for benchmarks.tallies only, which
    measures what the upkeep costs; anything else would leave the counters wrong."""
    token = _upkeep.set(False)
    try:
        yield
    finally:
        _upkeep.reset(token)


def key_of(record: RegistryRecord) -> Key:
    return tuple(getattr(record, name) for name in COUNTED)  # type: ignore[return-value]


def keys_of(records: QuerySet[RegistryRecord]) -> Counter[Key]:
    """The keys of these records, counted (one query)."""
    return Counter(records.values_list(*COUNTED))  # type: ignore[arg-type]


def _order(key: tuple) -> tuple:
    # None (not placed) sorts first; every caller locks in this one order.
    return tuple((value is not None, value or 0) for value in key)


def tally_apply(deltas: Mapping[Key, int]) -> None:
    """Add each delta to its counter at every level (the records' full keys cut down to
    each level's), creating the counters that do not exist yet.

    Precondition: inside the transaction that wrote the records these deltas describe.
    """
    if not _upkeep.get():
        return
    for level in LEVELS:
        moved: Counter[tuple] = Counter()
        for key, n in deltas.items():
            moved[level.key(key)] += n
        _apply(level, moved)


def _apply(level: Level, deltas: Mapping[tuple, int]) -> None:
    counters = level.model._default_manager
    for key in sorted((key for key, n in deltas.items() if n), key=_order):
        n, where = deltas[key], level.where(key)
        if counters.filter(**where).update(count=F("count") + n):
            continue
        try:
            with transaction.atomic():  # a savepoint: another writer may insert it first
                counters.create(**where, count=n)
        except IntegrityError:
            counters.filter(**where).update(count=F("count") + n)


def tally_move(before: Counter[Key], after: Counter[Key]) -> None:
    """Records went from the keys ``before`` to the keys ``after`` (either may be empty)."""
    deltas: Counter[Key] = Counter(after)
    deltas.subtract(before)
    tally_apply(deltas)


@transaction.atomic
def destination_set(
    records: QuerySet[RegistryRecord], destination: Any, at: datetime | None
) -> int:
    """Set (or clear, with None) the registered destination of these records and move them
    between counters; the one writer of ``RegistryRecord.destination``. Returns how many."""
    rows = list(records.select_for_update(of=("self",)).values_list("pk", *COUNTED))
    if not rows:
        return 0
    changed = RegistryRecord.objects.filter(pk__in=[row[0] for row in rows]).update(
        destination=destination, destination_at=at
    )
    destination_id = getattr(destination, "pk", destination)
    before: Counter[Key] = Counter(tuple(row[1:]) for row in rows)  # type: ignore[misc]
    after: Counter[Key] = Counter((*row[1:-1], destination_id) for row in rows)  # type: ignore[misc]
    tally_move(before, after)
    return changed


@transaction.atomic
def record_save(record: RegistryRecord, **kwargs) -> RegistryRecord:
    """Save a record (new or not) and move it between counters if a counted field changed.
    For the writers that save one record at a time: the admin, a registry request, the
    demo data."""
    before: Counter[Key] = Counter()
    if record.pk is not None:
        before = keys_of(
            RegistryRecord.objects.select_for_update(of=("self",)).filter(pk=record.pk)
        )
    record.save(**kwargs)
    tally_move(before, Counter([key_of(record)]))
    return record


@transaction.atomic
def record_delete(records: QuerySet[RegistryRecord]) -> None:
    """Delete records and take them off their counters (the admin)."""
    records = records.select_for_update(of=("self",))
    before = keys_of(records)
    records.delete()
    tally_move(before, Counter())


# --- the recount ----------------------------------------------------------------------------


def recount(records: QuerySet[RegistryRecord] | None = None, level: Level = MAJORS) -> Counter:
    """The counters of ``level`` as the records say, in one GROUP BY."""
    records = RegistryRecord.objects.all() if records is None else records
    rows = records.order_by().values_list(*level.fields).annotate(n=Count("pk"))
    return Counter({tuple(row[:-1]): row[-1] for row in rows})


def tallied(level: Level = MAJORS) -> Counter:
    """The counters of ``level`` as kept, without the empty ones."""
    rows = level.model._default_manager.filter(count__gt=0).values_list(*level.fields, "count")
    return Counter({tuple(row[:-1]): row[-1] for row in rows})


def differences() -> dict[tuple[Level, tuple], tuple[int, int]]:
    """{(level, key): (kept, recounted)} wherever they differ, at every level, all read in one
    snapshot (on PostgreSQL a REPEATABLE READ transaction, so a change committing meanwhile
    is either in both or in neither)."""
    # Inside a caller's transaction (a test) its snapshot rules instead.
    snapshot = connection.vendor == "postgresql" and not connection.in_atomic_block
    found = {}
    with transaction.atomic():
        if snapshot:
            with connection.cursor() as cursor:
                cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY")
        for level in LEVELS:
            kept, counted = tallied(level), recount(level=level)
            found.update(
                {
                    (level, key): (kept[key], counted[key])
                    for key in sorted(set(kept) | set(counted), key=_order)
                    if kept[key] != counted[key]
                }
            )
    return found


def tally_rebuild() -> int:
    """Rewrite every counter from the records; returns how many counters changed. Holds
    writers of registry records off while it runs (SHARE lock on PostgreSQL)."""
    with transaction.atomic():
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                table = RegistryRecord._meta.db_table
                cursor.execute(f'LOCK TABLE "{table}" IN SHARE MODE')
        changed = 0
        for level in LEVELS:
            deltas = recount(level=level)
            deltas.subtract(tallied(level))
            moved = {key: n for key, n in deltas.items() if n}
            _apply(level, moved)
            changed += len(moved)
        return changed
