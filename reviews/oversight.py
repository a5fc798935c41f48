"""Oversight: what provincial employment offices (省级就业主管部门) and the Ministry read.

Provincial staff watch every school whose ``province`` is theirs; Ministry staff watch every
school, by province first. Both only read: the permission functions of the items under review
(destreg/audit/stages.py ``can_decide``) know neither role, so neither can decide anything.
The pages drill down province → school → college → major and show counts, rates and waiting
work, never a graduate's name or ID number.

Every figure adds up counters kept in the transaction of each change (students/tallies.py):
a school's and a college's pages the destination tallies per major, as the schools' own
statistics page does; the provincial and national pages the school tallies (per year, school,
level, gender and destination), so a province of 800,000 graduates costs what its schools'
few dozen counters each cost, not its rows or its majors (benchmarks/tallies.py).
"""

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db.models import Count, Min, QuerySet, Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from destreg.audit.models import ReviewTask
from destreg.lib.permissions import ALLOW, Decision, deny
from destreg.reference.models import College, Region, School
from reviews.stats import TALLY_PLACED, Rate, rates_by_major
from students.models import DestinationTally, SchoolTally, current_graduation_year

# How many of a school's longest-waiting items its page lists.
OLDEST_SHOWN = 10

# A row of a breakdown with the id of what it counts (a province code, a school or college id).
Keyed = tuple[Any, Rate]


# --- who may read what ------------------------------------------------------------------------


def is_overseer(user: Any) -> bool:
    return bool(getattr(user, "is_overseer", False))


def schools_overseen_by(user: Any) -> QuerySet[School]:
    """The schools whose figures ``user`` may read (none for everybody but overseers)."""
    if getattr(user, "role", None) == "ministry_staff":
        return School.objects.all()
    if getattr(user, "role", None) == "province_staff" and user.province_id:
        return School.objects.filter(province_id=user.province_id)
    return School.objects.none()


def can_oversee_province(user: Any, province: Region) -> Decision:
    if getattr(user, "role", None) == "ministry_staff":
        return ALLOW
    if getattr(user, "role", None) == "province_staff" and user.province_id == province.pk:
        return ALLOW
    return deny(_("This province is not yours to watch."), visible=False)


def can_oversee_school(user: Any, school: School) -> Decision:
    if schools_overseen_by(user).filter(pk=school.pk).exists():
        return ALLOW
    return deny(_("This school is not yours to watch."), visible=False)


def can_oversee_college(user: Any, college: College) -> Decision:
    return can_oversee_school(user, college.school)


# --- figures ----------------------------------------------------------------------------------


def graduates_of(schools: QuerySet[School], by_major: bool = True) -> QuerySet:
    """The counters of this year's graduates of ``schools`` (the empty ones left out): per
    major (DestinationTally: a school's and a college's pages), or with ``by_major=False``
    per school only (SchoolTally: the provincial and national pages, whose counters do not
    multiply with the majors of every school)."""
    counters = DestinationTally if by_major else SchoolTally
    return counters.objects.filter(
        graduation_year=current_graduation_year(), school__in=schools, count__gt=0
    )


def _sums(**extra: Any) -> dict[str, Sum]:
    return {
        "total": Sum("count", default=0),
        "placed": Sum("count", filter=TALLY_PLACED, default=0),
        **extra,
    }


# What a page's rows are: the grouping field, its label, and its code if it has one (rows
# sort by the code, else by the label). The country page's rows are provinces, a province's
# schools, a school's colleges.
Rows = tuple[str, str, str]
PROVINCES: Rows = ("school__province_id", "school__province__name", "school__province_id")
SCHOOLS: Rows = ("school_id", "school__name", "school__code")
COLLEGES: Rows = ("college_id", "college__name", "")

LEVEL = ("education_level_id", "education_level__name", "education_level__name_en")
DESTINATION = ("destination__code", "destination__name", "destination__name_en")


@dataclass
class Figures:
    """A page's figures: the overall rate, one rate per row (keyed by what the row links to)
    and the level, gender and destination breakdowns, shaped as the statistics page's."""

    overall: Rate
    rows: list[Keyed]
    breakdowns: dict[str, list]


class _Sums(dict):
    """Counts added up per key, with the first group seen for each key (for its labels)."""

    def add(self, key: Any, group: dict) -> None:
        entry = self.setdefault(key, [group, 0, 0])
        entry[1] += group["total"]
        entry[2] += group["placed"]


def figures(tallies: QuerySet, rows: Rows) -> Figures:
    """Every figure of a country, province or school page from one GROUP BY over the counters
    (by row, level, gender and destination: a few hundred groups a province), added up here,
    so the counters are read once rather than once per breakdown. Which destinations count as
    placed is the database's to say (TALLY_PLACED), as on every other page."""
    key, name, code = rows
    fields = dict.fromkeys([key, name, *filter(None, [code]), *LEVEL, "gender", *DESTINATION])
    by_row, by_level, by_gender, by_destination = _Sums(), _Sums(), _Sums(), _Sums()
    for group in tallies.values(*fields).annotate(**_sums()).order_by():
        by_row.add(group[key], group)
        by_level.add(group[LEVEL[0]], group)
        by_gender.add(group["gender"], group)
        if group[DESTINATION[0]] is not None:
            by_destination.add(group[DESTINATION[0]], group)
    row_rates = [
        (at, Rate(group[name] or "", total, placed, code=group.get(code) or ""))
        for at, (group, total, placed) in by_row.items()
    ]
    levels = [
        Rate(str(group[LEVEL[1]]), total, placed, label_en=group[LEVEL[2]] or "")
        for group, total, placed in by_level.values()
    ]
    return Figures(
        overall=Rate(
            "",
            sum(total for _, total, _ in by_row.values()),
            sum(placed for _, _, placed in by_row.values()),
        ),
        rows=sorted(
            row_rates, key=lambda row: (row[1].code or row[1].label, _last_if_none(row[0]))
        ),
        breakdowns={
            "by_level": sorted(levels, key=lambda rate: rate.label),
            "by_gender": sorted(
                (
                    Rate(str(gender), total, placed)
                    for gender, (_, total, placed) in by_gender.items()
                ),
                key=lambda rate: rate.label,
            ),
            "by_destination": [
                {**{field: group[field] for field in DESTINATION}, "n": total}
                for _, (group, total, _) in sorted(by_destination.items())
            ],
        },
    )


def _last_if_none(value: Any) -> tuple[bool, Any]:
    return (value is None, value or 0)


def majors(tallies: QuerySet[DestinationTally]) -> list[Rate]:
    return rates_by_major(tallies, placed=TALLY_PLACED, counted=Sum)


@dataclass
class Waiting:
    """Review work waiting in a group: how many items at each stage, since when the oldest."""

    college: int = 0
    school: int = 0
    oldest: datetime | None = None

    @property
    def days(self) -> int | None:
        return (timezone.now() - self.oldest).days if self.oldest else None


def waiting_by(schools: QuerySet[School], group: str) -> dict[Any, Waiting]:
    """Pending review work per ``group`` value (e.g. "school_id", "school__province_id")."""
    rows = (
        ReviewTask.objects.filter(school__in=schools)
        .values(group, "stage")
        .annotate(n=Count("id"), oldest=Min("waiting_since"))
        .order_by()
    )
    waiting: dict[Any, Waiting] = {}
    for row in rows:
        entry = waiting.setdefault(row[group], Waiting())
        setattr(entry, row["stage"], row["n"])  # the stages are "college" and "school"
        if entry.oldest is None or row["oldest"] < entry.oldest:
            entry.oldest = row["oldest"]
    return waiting


def oldest_items(school: School, college: College | None = None) -> QuerySet[ReviewTask]:
    """The school's (or college's) longest-waiting items: kind, stage, college, since when;
    the task rows carry no name or ID number."""
    tasks = ReviewTask.objects.filter(school=school)
    if college is not None:
        tasks = tasks.filter(college=college)
    return tasks.select_related("college").order_by("waiting_since", "id")[:OLDEST_SHOWN]
