"""Reporting cut-offs and the snapshots taken at them: which are due, what a snapshot holds
for a reviewer, and what moved since one was taken.

A school reports its graduates' destinations as they stood at each of its reporting dates
(ReportingDate; 6.30, 8.31 and 12.31 of the graduating year unless it set others). Once
such a day is over, ``manage.py take_snapshots`` (reviews/services.py ``snapshot_take``)
copies every graduate's export row into an append-only snapshot; the statistics and the
national export can then be produced as of that snapshot, and ``changes_since`` lists the
graduates whose destination differs now.
"""

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from typing import Any

from django.conf import settings
from django.db.models import QuerySet
from django.utils import translation

from destreg.reference.models import School
from reviews.exporting import record_rows, row_dict
from reviews.models import DEFAULT_REPORTING_DATES, ReportingDate, Snapshot, SnapshotRow
from students.models import RegistryRecord, current_graduation_year


def reporting_dates(school_id: int, year: int) -> list[date]:
    """The school's reporting dates for the class of ``year``: its own, else the defaults."""
    own = list(
        ReportingDate.objects.filter(school_id=school_id, graduation_year=year)
        .order_by("cutoff")
        .values_list("cutoff", flat=True)
    )
    return own or [date(year, month, day) for month, day in DEFAULT_REPORTING_DATES]


# A run missed (the scheduler down) is caught up within this many days of the cut-off;
# older cut-offs are never taken by themselves: a snapshot taken months late would show
# a later day than the one it is labelled with (take one on purpose with --date).
CATCH_UP_DAYS = 31


def due(school: School, today: date) -> list[tuple[int, date]]:
    """(graduation year, cut-off) of every reporting date of the school that is over (the
    cut-off day itself still counts as before it), at most CATCH_UP_DAYS ago, and has no
    snapshot yet. The class of last year is looked at too: its 12.31 is due on 1 January."""
    years = sorted({current_graduation_year(), today.year, today.year - 1})
    taken = set(
        Snapshot.objects.filter(school=school, graduation_year__in=years).values_list(
            "graduation_year", "cutoff"
        )
    )
    return [
        (year, cutoff)
        for year in years
        for cutoff in reporting_dates(school.pk, year)
        if 0 < (today - cutoff).days <= CATCH_UP_DAYS and (year, cutoff) not in taken
    ]


def graduates_of(school_id: int, year: int) -> QuerySet[RegistryRecord]:
    return RegistryRecord.objects.filter(school_id=school_id, graduation_year=year)


# Which export columns say where a graduate went: a difference in any of them is a change.
DESTINATION_COLUMNS = ("毕业去向类别代码", "毕业去向", "单位名称", "统一社会信用代码")


def snapshot_rows_for(user: Any, snapshot: Snapshot) -> QuerySet[SnapshotRow]:
    """The snapshot's rows a reviewer may see (the caller checked ``can_see_snapshot``):
    a college reviewer's college's, a school reviewer's all."""
    found = SnapshotRow.objects.filter(snapshot=snapshot)
    if user.is_college_reviewer:
        return found.filter(college_id=user.college_id)
    if user.is_school_reviewer:
        return found
    return found.none()


def live_records_for(user: Any, snapshot: Snapshot) -> QuerySet[RegistryRecord]:
    """Today's registry records of the snapshot's class, in the reviewer's scope."""
    records = graduates_of(snapshot.school_id, snapshot.graduation_year)
    if user.is_college_reviewer:
        return records.filter(college_id=user.college_id)
    return records if user.is_school_reviewer else records.none()


@dataclass(frozen=True)
class Change:
    """A graduate whose destination moved since the snapshot: ``before`` and ``after`` are
    export rows (column heading → value); an empty one means the graduate was not in the
    snapshot (a record imported since) or is no longer registered."""

    student_no: str
    name: str
    before: dict[str, str]
    after: dict[str, str]

    @property
    def was(self) -> "Where | None":
        return Where.of(self.before)

    @property
    def now(self) -> "Where | None":
        return Where.of(self.after)


@dataclass(frozen=True)
class Where:
    """A graduate's destination in an export row, for the page."""

    code: str
    name: str
    unit: str
    uscc: str

    @classmethod
    def of(cls, row: dict[str, str]) -> "Where | None":
        return cls(*(row.get(column, "") for column in DESTINATION_COLUMNS)) if row else None


def _where(row: dict[str, str]) -> tuple[str, ...]:
    return tuple(row.get(column, "") for column in DESTINATION_COLUMNS)


def changes_since(user: Any, snapshot: Snapshot) -> Iterator[Change]:
    """Graduates (in the reviewer's scope) whose destination code, destination or unit
    differs now from the snapshot, in student-number order of today's records, then those
    no longer registered. Reads the snapshot's destination columns at once (a few MB at
    100,000 graduates) and today's export rows in chunks."""
    before: dict[int, tuple[str, dict[str, str]]] = {}
    for record_id, student_no, export in (
        snapshot_rows_for(user, snapshot)
        .values_list("record_id", "student_no", "export")
        .iterator(chunk_size=2000)
    ):
        before[record_id] = (student_no, export)
    with translation.override(settings.LANGUAGE_CODE):  # the export's values are Chinese
        for record, row in record_rows(live_records_for(user, snapshot)):
            after = row_dict(row)
            student_no, then = before.pop(record.pk, ("", {}))
            if not then or _where(then) != _where(after):
                yield Change(record.student_no, record.name, then, after)
    for student_no, then in sorted(before.values(), key=lambda pair: pair[0]):
        yield Change(student_no, then.get("姓名", ""), then, {})
