"""The destination tallies' upkeep and their recount (students.models.DestinationTally).

Every write of a registry record's counted fields (COUNTED) goes through one of the
functions here, inside the writer's transaction: they read the records' keys before and
after and hand the difference to ``tally_apply``, the one function that changes counters.

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
from datetime import datetime
from typing import Any

from django.db import IntegrityError, connection, transaction
from django.db.models import Count, F, QuerySet

from students.models import DestinationTally, RegistryRecord

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


def _where(key: Key) -> dict[str, Any]:
    return dict(zip(COUNTED, key, strict=True))


def _order(key: Key) -> tuple:
    # None (not placed) sorts first; every caller locks in this one order.
    return tuple((value is not None, value or 0) for value in key)


def tally_apply(deltas: Mapping[Key, int]) -> None:
    """Add each delta to its counter, creating the counters that do not exist yet.

    Precondition: inside the transaction that wrote the records these deltas describe.
    """
    if not _upkeep.get():
        return
    tallies = DestinationTally.objects
    for key in sorted((key for key, n in deltas.items() if n), key=_order):
        n, where = deltas[key], _where(key)
        if tallies.filter(**where).update(count=F("count") + n):
            continue
        try:
            with transaction.atomic():  # a savepoint: another writer may insert it first
                tallies.create(**where, count=n)
        except IntegrityError:
            tallies.filter(**where).update(count=F("count") + n)


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


def recount(records: QuerySet[RegistryRecord] | None = None) -> Counter[Key]:
    """The counters as the records say, in one GROUP BY."""
    records = RegistryRecord.objects.all() if records is None else records
    rows = records.order_by().values_list(*COUNTED).annotate(n=Count("pk"))
    return Counter({tuple(row[:-1]): row[-1] for row in rows})  # type: ignore[misc]


def tallied() -> Counter[Key]:
    """The counters as kept, without the empty ones."""
    rows = DestinationTally.objects.filter(count__gt=0).values_list(*COUNTED, "count")
    return Counter({tuple(row[:-1]): row[-1] for row in rows})  # type: ignore[misc]


def differences() -> dict[Key, tuple[int, int]]:
    """{key: (kept, recounted)} wherever they differ, both read in one snapshot (on
    PostgreSQL a REPEATABLE READ transaction, so a change committing meanwhile is either
    in both or in neither)."""
    # Inside a caller's transaction (a test) its snapshot rules instead.
    snapshot = connection.vendor == "postgresql" and not connection.in_atomic_block
    with transaction.atomic():
        if snapshot:
            with connection.cursor() as cursor:
                cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY")
        kept, counted = tallied(), recount()
    return {
        key: (kept[key], counted[key])
        for key in sorted(set(kept) | set(counted), key=_order)
        if kept[key] != counted[key]
    }


def tally_rebuild() -> int:
    """Rewrite every counter from the records; returns how many counters changed. Holds
    writers of registry records off while it runs (SHARE lock on PostgreSQL)."""
    with transaction.atomic():
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                table = RegistryRecord._meta.db_table
                cursor.execute(f'LOCK TABLE "{table}" IN SHARE MODE')
        counted, kept = recount(), tallied()
        deltas: Counter[Key] = Counter(counted)
        deltas.subtract(kept)
        changed = {key: n for key, n in deltas.items() if n}
        token = _upkeep.set(True)
        try:
            tally_apply(changed)
        finally:
            _upkeep.reset(token)
        return len(changed)
