"""Oversight: what provincial employment offices (省级就业主管部门) and the Ministry read.

Provincial staff watch every school whose ``province`` is theirs; Ministry staff watch every
school, by province first. Both only read: the permission functions of the items under review
(destreg/audit/stages.py ``can_decide``) know neither role, so neither can decide anything.
The pages drill down province → school → college → major and show counts, rates and waiting
work, never a graduate's name or ID number.

Every figure is a count grouped by one level (``rates_of``), from the same counts as the
schools' own statistics page (``PLACED`` of reviews/stats.py, the 2024 definition).
"""

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db.models import Count, Min, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from destreg.audit.models import ReviewTask
from destreg.lib.permissions import ALLOW, Decision, deny
from destreg.reference.models import College, Region, School
from reviews.stats import PLACED, Rate, rates_by, rates_by_major
from students.models import RegistryRecord

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


def graduates_of(schools: QuerySet[School]) -> QuerySet[RegistryRecord]:
    """This year's graduates of ``schools``."""
    return RegistryRecord.objects.current().filter(school__in=schools)


def overall(records: QuerySet[RegistryRecord]) -> Rate:
    totals = records.aggregate(total=Count("id"), placed=Count("id", filter=PLACED))
    return Rate("", totals["total"], totals["placed"])


def _rates(records: QuerySet[RegistryRecord], key: str, name: str, code: str = "") -> list[Keyed]:
    fields = [key, name, *filter(None, [code])]
    rows = (
        records.values(*fields)
        .annotate(total=Count("id"), placed=Count("id", filter=PLACED))
        .order_by(code or name, key)
    )
    return [
        (row[key], Rate(row[name] or "", row["total"], row["placed"], code=row.get(code) or ""))
        for row in rows
    ]


def rates_of_provinces(records: QuerySet[RegistryRecord]) -> list[Keyed]:
    """One row per province, keyed by its code; schools with no province set form one row
    keyed None, so no graduate drops out of the national figure."""
    return _rates(records, "school__province_id", "school__province__name", "school__province_id")


def rates_of_schools(records: QuerySet[RegistryRecord]) -> list[Keyed]:
    return _rates(records, "school_id", "school__name", "school__code")


def rates_of_colleges(records: QuerySet[RegistryRecord]) -> list[Keyed]:
    return _rates(records, "college_id", "college__name")


def breakdowns(records: QuerySet[RegistryRecord]) -> dict:
    """By level, gender and destination: the same rows as the schools' statistics page."""
    return {
        "by_level": rates_by(
            records, "education_level_id", "education_level__name", "education_level__name_en"
        ),
        "by_gender": rates_by(records, "gender", "gender"),
        "by_destination": list(
            records.exclude(destination=None)
            .values("destination__code", "destination__name", "destination__name_en")
            .annotate(n=Count("id"))
            .order_by("destination__code")
        ),
    }


def majors(records: QuerySet[RegistryRecord]) -> list[Rate]:
    return rates_by_major(records)


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
