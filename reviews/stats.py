"""去向落实率 and the other figures on the statistics page, scoped like the queue."""

from dataclasses import dataclass

from django.core.cache import cache
from django.db.models import Count, Min, Q, QuerySet
from django.utils import timezone

from destreg.audit.models import ReviewTask
from students.models import Gender, RegistryRecord

# The 2024 definition: 单位就业 (10 协议, 11 合同, 12 其他录用, 27 科研助理, 46 应征义务兵,
# 50/51 基层项目) + 自主创业 (75) + 自由职业 (76) + 升学 (80, 85), over all graduates.
PLACED_CODES = ["10", "11", "12", "27", "46", "50", "51", "75", "76", "80", "85"]
PLACED = Q(destination__code__in=PLACED_CODES) | Q(destination__parent__code__in=PLACED_CODES)


def graduates_in_scope(user) -> QuerySet[RegistryRecord]:
    """This year's graduates a user may report on."""
    records = RegistryRecord.objects.current()
    if user.is_platform_admin:
        return records
    if user.is_college_reviewer:
        return records.filter(college_id=user.college_id)
    if user.is_school_reviewer:
        return records.filter(school_id=user.school_id)
    return records.none()


@dataclass
class Rate:
    label: str
    total: int
    placed: int

    @property
    def percent(self) -> float:
        return round(100 * self.placed / self.total, 1) if self.total else 0.0


def rates_by(records: QuerySet[RegistryRecord], field: str, label_field: str) -> list[Rate]:
    rows = (
        records.values(field, label_field)
        .annotate(total=Count("id"), placed=Count("id", filter=PLACED))
        .order_by(label_field)
    )
    return [Rate(str(row[label_field]), row["total"], row["placed"]) for row in rows]


def compute(user) -> dict:
    records = graduates_in_scope(user)
    overall = records.aggregate(total=Count("id"), placed=Count("id", filter=PLACED))
    by_gender = [
        Rate(
            str(Gender(int(rate.label)).label),
            rate.total,
            rate.placed,
        )
        for rate in rates_by(records, "gender", "gender")
    ]
    by_destination = (
        records.exclude(destination=None)
        .values("destination__code", "destination__name")
        .annotate(n=Count("id"))
        .order_by("destination__code")
    )
    tasks = ReviewTask.objects.visible_to(user)
    if user.is_school_reviewer:
        # The school's dashboard looks at both stages of its own school.
        tasks = ReviewTask.objects.filter(school_id=user.school_id)
    return {
        "overall": Rate("", overall["total"], overall["placed"]),
        "by_college": rates_by(records, "college_id", "college__name"),
        "by_major": rates_by(records, "major_id", "major__name"),
        "by_level": rates_by(records, "education_level_id", "education_level__name"),
        "by_gender": by_gender,
        "by_destination": list(by_destination),
        "pending": [
            (ReviewTask.Stage(row["stage"]).label, ReviewTask.Kind(row["kind"]).label, row["n"])
            for row in tasks.values("stage", "kind").annotate(n=Count("id")).order_by("stage")
        ],
        "oldest_by_college": list(
            tasks.values("college__name")
            .annotate(oldest=Min("waiting_since"), n=Count("id"))
            .order_by("oldest")
        ),
        "computed_at": timezone.now(),
    }


CACHE_SECONDS = 300


def scope_key(user) -> str:
    if user.is_platform_admin:
        return "all"
    if user.is_college_reviewer:
        return f"college:{user.college_id}"
    return f"school:{user.school_id}"


def cached(user, *, refresh: bool = False) -> dict:
    """The figures for the user's scope, computed at most every CACHE_SECONDS (the page
    shows when); on a large school a fresh computation scans every graduate of the year."""
    key = f"reviews:stats:{scope_key(user)}"
    figures = None if refresh else cache.get(key)
    if figures is None:
        figures = compute(user)
        cache.set(key, figures, CACHE_SECONDS)
    return figures
