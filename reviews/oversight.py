"""Oversight: what provincial employment offices (省级就业主管部门) and the Ministry read.

Provincial staff watch every school whose ``province`` is theirs; Ministry staff watch every
school, by province first. Both only read: the permission functions of the items under review
(destreg/audit/stages.py ``can_decide``) know neither role, so neither can decide anything.
The pages drill down province → school → college → major and show counts, rates and waiting
work, never a graduate's name or ID number.

Every figure adds up the destination tallies (students/tallies.py: counters per year, school,
college, major, level, gender and destination, kept in the transaction of each change), as
the schools' own statistics page does, so a province of 800,000 graduates costs what its
few thousand counters cost, not its rows (benchmarks/tallies.py).
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
from reviews.stats import TALLY_PLACED, Rate, rates_by_major, tally_breakdowns
from students.models import DestinationTally, current_graduation_year

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


def graduates_of(schools: QuerySet[School]) -> QuerySet[DestinationTally]:
    """The counters of this year's graduates of ``schools`` (the empty ones left out)."""
    return DestinationTally.objects.filter(
        graduation_year=current_graduation_year(), school__in=schools, count__gt=0
    )


def _sums(**extra: Any) -> dict[str, Sum]:
    return {
        "total": Sum("count", default=0),
        "placed": Sum("count", filter=TALLY_PLACED, default=0),
        **extra,
    }


def overall(tallies: QuerySet[DestinationTally]) -> Rate:
    totals = tallies.aggregate(**_sums())
    return Rate("", totals["total"], totals["placed"])


def _rates(tallies: QuerySet[DestinationTally], key: str, name: str, code: str = "") -> list[Keyed]:
    fields = [key, name, *filter(None, [code])]
    rows = tallies.values(*fields).annotate(**_sums()).order_by(code or name, key)
    return [
        (row[key], Rate(row[name] or "", row["total"], row["placed"], code=row.get(code) or ""))
        for row in rows
    ]


def rates_of_provinces(tallies: QuerySet[DestinationTally]) -> list[Keyed]:
    """One row per province, keyed by its code; schools with no province set form one row
    keyed None, so no graduate drops out of the national figure."""
    return _rates(tallies, "school__province_id", "school__province__name", "school__province_id")


def rates_of_schools(tallies: QuerySet[DestinationTally]) -> list[Keyed]:
    return _rates(tallies, "school_id", "school__name", "school__code")


def rates_of_colleges(tallies: QuerySet[DestinationTally]) -> list[Keyed]:
    return _rates(tallies, "college_id", "college__name")


def breakdowns(tallies: QuerySet[DestinationTally]) -> dict:
    """By level, gender and destination: the same rows as the schools' statistics page."""
    return tally_breakdowns(tallies)


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
