"""去向落实率 and the other figures on the statistics page, scoped like the queue.

The figures are computed per scope (a college, a school, everything for the platform admin)
and kept in the shared cache as numbers, codes and names from the database only: every
label in the reader's language (a gender, a review stage, an item kind, the chart's words)
is made when the page is rendered (``present``), so one cached copy serves every language.

The counts (rates overall and by college, major, level, gender; the destinations) come
from the destination tallies kept with every change of a graduate's counted fields
(students/tallies.py), so they cost the same at 10,000 graduates and at a million; the
weekly curve and the pending work are still counted from their rows.

A cached copy is forgotten as soon as what it counts changes (destreg/invalidation.py): a
state change of an item of the scope through the door, an import into the school, a save
or delete of a registry record; the page also says when it was computed and recomputes on
request.
"""

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from datetime import date, timedelta
from typing import Any

from django.core.cache import cache
from django.db.models import Count, Min, Q, QuerySet, Sum
from django.db.models.functions import TruncWeek
from django.utils import timezone
from django.utils.translation import get_language

from destreg.audit.models import ReviewTask
from destreg.lib.cache import FORGOTTEN, forget
from destreg.lib.replica import reads_from_replica
from destreg.reference.models import Code, CodeTable, College
from reviews.models import Outcome, Snapshot
from reviews.snapshots import snapshot_rows_for
from reviews.verification import figures as verification_figures
from students.models import (
    DestinationTally,
    Gender,
    RegistryRecord,
    SchoolTally,
    current_graduation_year,
)

# The 2024 definition: 单位就业 (10 协议, 11 合同, 12 其他录用, 27 科研助理, 46 应征义务兵,
# 50/51 基层项目) + 自主创业 (75) + 自由职业 (76) + 升学 (80, 85), over all graduates.
PLACED_CODES = ["10", "11", "12", "27", "46", "50", "51", "75", "76", "80", "85"]
PLACED = Q(destination__code__in=PLACED_CODES) | Q(destination__parent__code__in=PLACED_CODES)
# The same over the tallies, by the destinations' ids (one hashed subquery rather than two
# joins of the code table per counter row).
TALLY_PLACED = Q(
    destination_id__in=Code.objects.filter(
        Q(code__in=PLACED_CODES) | Q(parent__code__in=PLACED_CODES), table=CodeTable.DESTINATION
    ).values("pk")
)
# The platform admin's rows: one per school (its id, and its name as the label).
SCHOOL_ROWS = ("school_id", "school__name")
# In a snapshot, whether each graduate counted was frozen with them.
SNAPSHOT_PLACED = Q(placed=True)

# The registration season of the class of year Y, which the weekly chart spans: from the
# week of 1 September of Y-1 (the autumn recruitment) to the week of 31 August of Y.
SEASON_START = (9, 1)
SEASON_END = (8, 31)


def _in_scope(user, records: QuerySet) -> QuerySet:
    if user.is_platform_admin or user.role == "ministry_staff":
        return records
    if user.role == "province_staff":
        return records.filter(school__province_id=user.province_id)
    if user.is_college_reviewer:
        return records.filter(college_id=user.college_id)
    if user.is_school_reviewer:
        return records.filter(school_id=user.school_id)
    return records.none()


# The place each role's scope covers (``_in_scope``); the others see the country or nobody.
SCOPE_PLACE = {
    "province_staff": "province_id",
    "school_reviewer": "school_id",
    "college_reviewer": "college_id",
}


def scope_of(user) -> dict[str, Any]:
    """What ``_in_scope`` reads of ``user``: the role and the place it covers, if any (keyed
    like ExportJob's fields, which record it)."""
    scope: dict[str, Any] = dict.fromkeys(["province_id", "school_id", "college_id"])
    if place := SCOPE_PLACE.get(user.role):
        scope[place] = getattr(user, place)
    return {"role": user.role, **scope}


def graduates_in_scope(user) -> QuerySet[RegistryRecord]:
    """This year's graduates a user may report on."""
    return _in_scope(user, RegistryRecord.objects.current())


def tallies_in_scope(user) -> QuerySet[DestinationTally]:
    """The counters of this year's graduates a user may report on (students/tallies.py),
    without the empty ones."""
    tallies = DestinationTally.objects.filter(
        graduation_year=current_graduation_year(), count__gt=0
    )
    return _in_scope(user, tallies)  # type: ignore[arg-type]


@dataclass(frozen=True)
class Rate:
    """One row of a breakdown. ``label`` is language-free: a name from the database, or
    the value of a choice (a gender) that ``present`` turns into its label."""

    label: str
    total: int
    placed: int
    # Code tables' English names (Code.name_en), shown instead in the English interface.
    label_en: str = ""
    # Majors: the code and what else tells apart majors of the same name.
    code: str = ""
    college: str = ""
    level: str = ""
    level_en: str = ""
    detail: str = field(default="", compare=False)
    # The row's own page (the oversight pages' drill-down), if it has one.
    link: str = field(default="", compare=False)

    @property
    def percent(self) -> float:
        return round(100 * self.placed / self.total, 1) if self.total else 0.0


def rates_by(
    records: QuerySet,
    field: str,
    label_field: str,
    english_field: str = "",
    placed: Q = PLACED,
    counted: type[Count] | type[Sum] = Count,
) -> list[Rate]:
    """Rates per value of ``field``: rows counted (``Count``), or counters added up
    (``Sum``, over DestinationTally)."""
    what = "count" if counted is Sum else "id"
    extra: dict[str, Any] = {"default": 0} if counted is Sum else {}
    rows = (
        records.values(field, label_field, *filter(None, [english_field]))
        .annotate(total=counted(what), placed=counted(what, filter=placed, **extra))
        .order_by(label_field)
    )
    return [
        Rate(
            str(row[label_field]),
            row["total"],
            row["placed"],
            label_en=(row.get(english_field) or "") if english_field else "",
        )
        for row in rows
    ]


def rates_by_major(
    records: QuerySet, placed: Q = PLACED, counted: type[Count] | type[Sum] = Count
) -> list[Rate]:
    """Majors with their code, college and level: two majors may share a name (one per
    level, or in two colleges), and each is its own row."""
    what = "count" if counted is Sum else "id"
    extra: dict[str, Any] = {"default": 0} if counted is Sum else {}
    rows = (
        records.values(
            "major_id",
            "major__name",
            "major__code",
            "college__name",
            "education_level__name",
            "education_level__name_en",
        )
        .annotate(total=counted(what), placed=counted(what, filter=placed, **extra))
        .order_by("major__name", "major__code", "college__name", "major_id")
    )
    return [
        Rate(
            row["major__name"],
            row["total"],
            row["placed"],
            code=row["major__code"],
            college=row["college__name"],
            level=row["education_level__name"] or "",
            level_en=row["education_level__name_en"] or "",
        )
        for row in rows
    ]


# --- the weekly curve -------------------------------------------------------------------


def season_weeks(year: int) -> tuple[date, int]:
    """The Monday the class of ``year``'s season starts on, and how many weeks it has."""
    start = date(year - 1, *SEASON_START)
    start -= timedelta(days=start.weekday())
    end = date(year, *SEASON_END)
    return start, (end - start).days // 7 + 1


@dataclass(frozen=True)
class Week:
    """The rate at the end of one week of the season: graduates placed by then (cumulative)."""

    index: int
    ends: date
    placed: int
    total: int

    @property
    def percent(self) -> float:
        return round(100 * self.placed / self.total, 1) if self.total else 0.0


@dataclass(frozen=True)
class Curve:
    year: int
    total: int
    weeks: list[Week]


def weekly_progress(user, year: int | None = None, *, today: date | None = None) -> list[Curve]:
    """去向落实率 week by week for the class of ``year`` (up to this week) and, beside it,
    the class before (its whole season), in two aggregate queries.

    When a graduate was placed is ``RegistryRecord.destination_at``: the approval time the
    service approving a destination writes with it (students/destinations.py
    ``claim_approve``), cleared with it when the destination ends. So a curve shows when
    the destinations that count today were approved; a destination that was later voided
    or terminated drops out of every week, as it dropped out of the rate. A graduate
    placed without an approval time counts from the first week; one approved before the
    season counts in its first week, one after it in its last.
    """
    year = year or current_graduation_year()
    today = today or timezone.localdate()
    records = _in_scope(user, RegistryRecord.objects.filter(graduation_year__in=[year, year - 1]))
    totals = dict(
        records.values_list("graduation_year").annotate(n=Count("id")).order_by("graduation_year")
    )
    placed_rows = (
        records.filter(PLACED)
        .annotate(week=TruncWeek("destination_at"))
        .values("graduation_year", "week")
        .annotate(n=Count("id"))
        .order_by()
    )
    placed: dict[int, dict[date | None, int]] = {year: {}, year - 1: {}}
    for row in placed_rows:
        week = row["week"]
        week = week.date() if hasattr(week, "date") else week
        placed[row["graduation_year"]][week] = row["n"]
    curves = []
    for class_of in (year, year - 1):
        start, n_weeks = season_weeks(class_of)
        if class_of == year:  # the weeks so far
            n_weeks = max(0, min(n_weeks, (today - start).days // 7 + 1))
        per_week = [0] * n_weeks
        for monday, n in placed[class_of].items():
            index = 0 if monday is None else (monday - start).days // 7
            if per_week:
                per_week[max(0, min(index, n_weeks - 1))] += n
        total = totals.get(class_of, 0)
        weeks, running = [], 0
        for index, n in enumerate(per_week):
            running += n
            weeks.append(Week(index, start + timedelta(days=7 * index + 6), running, total))
        curves.append(Curve(class_of, total, weeks if total else []))
    return curves


# --- all figures, cached per scope ----------------------------------------------------------


def tally_breakdowns(tallies: QuerySet) -> dict:
    """The level, gender and destination rows of some counters, per major or per school (the
    statistics page's and the oversight pages')."""
    return {
        "by_level": rates_by(
            tallies,
            "education_level_id",
            "education_level__name",
            "education_level__name_en",
            placed=TALLY_PLACED,
            counted=Sum,
        ),
        "by_gender": rates_by(tallies, "gender", "gender", placed=TALLY_PLACED, counted=Sum),
        "by_destination": list(
            tallies.exclude(destination=None)
            .values("destination__code", "destination__name", "destination__name_en")
            .annotate(n=Sum("count"))
            .order_by("destination__code")
        ),
    }


def counts(user) -> dict:
    """The figures that are counts: read from the destination tallies (a few hundred
    counters per school), not from the graduates' rows. The platform admin's scope, the
    whole country, is shown by school from the school counters (a few dozen a school): a row
    for every college and major of the country would grow with the majors and be read by
    nobody (the Ministry's oversight pages drill down instead)."""
    tallies: QuerySet
    if user.is_platform_admin:
        tallies = SchoolTally.objects.filter(graduation_year=current_graduation_year(), count__gt=0)
        rows = {
            "by_school": rates_by(tallies, *SCHOOL_ROWS, placed=TALLY_PLACED, counted=Sum),
            "by_college": [],
            "by_major": [],
        }
    else:
        tallies = tallies_in_scope(user)
        rows = {
            "by_school": [],
            "by_college": rates_by(
                tallies, "college_id", "college__name", placed=TALLY_PLACED, counted=Sum
            ),
            "by_major": rates_by_major(tallies, placed=TALLY_PLACED, counted=Sum),
        }
    overall = tallies.aggregate(
        total=Sum("count", default=0), placed=Sum("count", filter=TALLY_PLACED, default=0)
    )
    return {
        "overall": Rate("", overall["total"], overall["placed"]),
        **rows,
        **tally_breakdowns(tallies),
    }


def counts_from_rows(user) -> dict:
    """The same figures counted from the graduates' rows (what the page did before the
    tallies): for the tests that compare both, and for the benchmark."""
    records = graduates_in_scope(user)
    overall = records.aggregate(total=Count("id"), placed=Count("id", filter=PLACED))
    if user.is_platform_admin:
        rows = {"by_school": rates_by(records, *SCHOOL_ROWS), "by_college": [], "by_major": []}
    else:
        rows = {
            "by_school": [],
            "by_college": rates_by(records, "college_id", "college__name"),
            "by_major": rates_by_major(records),
        }
    return {
        "overall": Rate("", overall["total"], overall["placed"]),
        **rows,
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


def compute(user) -> dict:
    """The figures of the user's scope, language-free (see ``present``)."""
    figures = counts(user)
    by_destination = figures["by_destination"]
    tasks = ReviewTask.objects.visible_to(user)
    if user.is_school_reviewer:
        # The school's dashboard looks at both stages of its own school.
        tasks = ReviewTask.objects.filter(school_id=user.school_id)
    return {
        **figures,
        "pending": [
            (row["stage"], row["kind"], row["n"])
            for row in tasks.values("stage", "kind").annotate(n=Count("id")).order_by("stage")
        ],
        "oldest_by_college": list(
            tasks.values("college__name")
            .annotate(oldest=Min("waiting_since"), n=Count("id"))
            .order_by("oldest")
        ),
        "progress": weekly_progress(user),
        # 就业核查: checked of sampled, and of every graduate with a destination.
        "verification": verification_figures(user, sum(row["n"] for row in by_destination)),
        "computed_at": timezone.now(),
    }


def compute_as_of(user, snapshot: Snapshot) -> dict:
    """The rates of the user's scope as the snapshot froze them (the caller checked
    ``can_see_snapshot``); pending work and the weekly curve are live only, so absent."""
    rows = snapshot_rows_for(user, snapshot)
    overall = rows.aggregate(total=Count("id"), placed=Count("id", filter=SNAPSHOT_PLACED))
    by_destination = (
        rows.exclude(destination_code="")
        .values("destination_code", "destination__name", "destination__name_en")
        .annotate(n=Count("id"))
        .order_by("destination_code")
    )
    return {
        "overall": Rate("", overall["total"], overall["placed"]),
        "by_college": rates_by(rows, "college_id", "college__name", placed=SNAPSHOT_PLACED),
        "by_major": rates_by_major(rows, placed=SNAPSHOT_PLACED),
        "by_level": rates_by(
            rows,
            "education_level_id",
            "education_level__name",
            "education_level__name_en",
            placed=SNAPSHOT_PLACED,
        ),
        "by_gender": rates_by(rows, "gender", "gender", placed=SNAPSHOT_PLACED),
        "by_destination": [
            {**row, "destination__code": row.pop("destination_code")} for row in by_destination
        ],
        "pending": [],
        "oldest_by_college": [],
        "progress": [],
        "computed_at": snapshot.taken_at,
    }


CACHE_SECONDS = 300
# A snapshot never changes: its figures are kept until they expire, never forgotten.
SNAPSHOT_CACHE_SECONDS = 3600


def scope_key(user) -> str:
    if user.is_platform_admin:
        return "all"
    if user.is_college_reviewer:
        return f"college:{user.college_id}"
    return f"school:{user.school_id}"


def cache_key(scope: str) -> str:
    return f"reviews:stats:{scope}"


def cached(user, *, refresh: bool = False) -> dict:
    """The figures for the user's scope, computed at most every CACHE_SECONDS (the page
    shows when) and again as soon as what they count changes; on a large school a fresh
    computation scans every graduate of the year. While the scope is marked forgotten
    (destreg/lib/cache.py) they are computed and not kept."""
    key = cache_key(scope_key(user))
    figures = None if refresh else cache.get(key)
    if figures is None or figures == FORGOTTEN:
        with reads_from_replica():  # aggregates over the whole scope (destreg/lib/replica.py)
            figures = compute(user)
        if refresh:
            # Over an older copy, but never over a mark: a change is being committed.
            if cache.get(key) != FORGOTTEN:
                cache.set(key, figures, CACHE_SECONDS)
        else:
            cache.add(key, figures, CACHE_SECONDS)
    return figures


def cached_as_of(user, snapshot: Snapshot) -> dict:
    """The figures of the user's scope as of ``snapshot``, computed once an hour at most."""
    key = f"{cache_key(scope_key(user))}:snapshot:{snapshot.pk}"
    figures = cache.get(key)
    if figures is None:
        with reads_from_replica():
            figures = compute_as_of(user, snapshot)
        cache.add(key, figures, SNAPSHOT_CACHE_SECONDS)
    return figures


# --- what a change makes stale (destreg/invalidation.py) --------------------------------------

# The registry record fields the figures count: a save of other fields leaves them alone.
COUNTED_FIELDS = frozenset(
    {
        "school",
        "school_id",
        "college",
        "college_id",
        "major",
        "major_id",
        "education_level",
        "education_level_id",
        "gender",
        "graduation_year",
        "destination",
        "destination_id",
        "destination_at",
    }
)


def school_keys(school_id: Any) -> list[str]:
    """The figures that count anything of the school: its own, each college's, everything."""
    colleges = College.objects.filter(school_id=school_id).values_list("pk", flat=True)
    return [
        cache_key("all"),
        cache_key(f"school:{school_id}"),
        *(cache_key(f"college:{pk}") for pk in colleges),
    ]


def statistics_keys_of(item: Any) -> Iterable[str]:
    """The figures a state change of ``item`` (or its deletion) makes stale (the door): an
    agreement or a registration changes its college's and school's figures (the pending
    work, and the destination when it is approved, voided or ends), a termination its
    subject's, a registry request or an import (audited on the school) every figure of
    the school."""
    # A termination counts where its subject (the agreement or the registration) does.
    item = getattr(item, "subject", item)
    college_id = getattr(item, "college_id", None)
    if college_id is not None:
        return [
            cache_key("all"),
            cache_key(f"school:{item.school_id}"),
            cache_key(f"college:{college_id}"),
        ]
    school_id = getattr(item, "school_id", None)
    if school_id is None and item._meta.label == "reference.School":
        school_id = item.pk
    return school_keys(school_id) if school_id is not None else [cache_key("all")]


def forget_record_statistics(record: RegistryRecord, update_fields=None) -> None:
    """A registry record saved or deleted: its school's figures (every college's, as the
    record may have moved between colleges), unless only uncounted fields were saved."""
    if update_fields is not None and not COUNTED_FIELDS & set(update_fields):
        return
    forget(*school_keys(record.school_id))


# --- the page, in the reader's language -------------------------------------------------------


@dataclass(frozen=True)
class Point:
    x: float
    y: float
    week: Week


@dataclass(frozen=True)
class Series:
    curve: Curve
    css: str
    points: list[Point]

    @property
    def polyline(self) -> str:
        return " ".join(f"{p.x:.1f},{p.y:.1f}" for p in self.points)


@dataclass(frozen=True)
class Chart:
    """The weekly chart's geometry in SVG user units (the template draws it)."""

    width: int
    height: int
    left: int
    right: int
    top: int
    bottom: int
    grid: list[tuple[float, int]]  # (y, percent)
    ticks: list[tuple[float, date]]  # (x, first day of a month)
    series: list[Series]
    # Table rows: (week number, week end of this season, this class's week, the class before's).
    rows: list[tuple[int, date, Week | None, Week | None]]


WIDTH, HEIGHT = 640, 260
LEFT, RIGHT, TOP, BOTTOM = 44, 12, 12, 30


def chart(progress: list[Curve]) -> Chart:
    """Lay the curves out: x is the week of the season (both classes aligned on it), y the
    rate from 0 to 100 %."""
    current = progress[0]
    start, n_weeks = season_weeks(current.year)
    n_weeks = max([n_weeks, *(len(curve.weeks) for curve in progress)])
    plot_width, plot_height = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    step = plot_width / max(1, n_weeks - 1)

    def x(index: float) -> float:
        return LEFT + index * step

    def y(percent: float) -> float:
        return TOP + plot_height * (1 - percent / 100)

    series = [
        Series(
            curve,
            "current" if n == 0 else "previous",
            [Point(x(week.index), y(week.percent), week) for week in curve.weeks],
        )
        for n, curve in enumerate(progress)
    ]
    ticks = []
    month = date(start.year, start.month, 1)
    while (month - start).days < 7 * n_weeks:
        # A week's point sits at its last day: a date falls (days - 6) / 7 weeks in.
        position = ((month - start).days - 6) / 7
        if 0 <= position <= n_weeks - 1:
            ticks.append((x(position), month))
        month = date(month.year + month.month // 12, month.month % 12 + 1, 1)
    rows = []
    for index in range(n_weeks):
        this, before = (
            curve.weeks[index] if index < len(curve.weeks) else None for curve in progress[:2]
        )
        if this or before:
            rows.append((index + 1, start + timedelta(days=7 * index + 6), this, before))
    return Chart(
        width=WIDTH,
        height=HEIGHT,
        left=LEFT,
        right=WIDTH - RIGHT,
        top=TOP,
        bottom=HEIGHT - BOTTOM,
        grid=[(y(percent), percent) for percent in (0, 25, 50, 75, 100)],
        ticks=ticks,
        series=series,
        rows=rows,
    )


def present(figures: dict) -> dict:
    """The cached figures with their labels in the active language, for the template."""
    english = (get_language() or "").startswith("en")
    names = Counter(rate.label for rate in figures["by_major"])

    def named(rate: Rate) -> Rate:
        return replace(rate, label=rate.label_en) if english and rate.label_en else rate

    def major(rate: Rate) -> Rate:
        # A shared name also says where: the code alone does not tell a reader which.
        level = rate.level_en if english and rate.level_en else rate.level
        where = " · ".join(filter(None, [rate.college, level]))
        return replace(rate, detail=where if names[rate.label] > 1 else "")

    return {
        **figures,
        "by_level": [named(rate) for rate in figures["by_level"]],
        "by_gender": [
            Rate(str(Gender(int(rate.label)).label), rate.total, rate.placed)
            for rate in figures["by_gender"]
        ],
        "by_major": [major(rate) for rate in figures["by_major"]],
        "by_destination": [
            {
                **row,
                "destination__name": (
                    row["destination__name_en"]
                    if english and row["destination__name_en"]
                    else row["destination__name"]
                ),
            }
            for row in figures["by_destination"]
        ],
        "pending": [
            (ReviewTask.Stage(stage).label, ReviewTask.Kind(kind).label, n)
            for stage, kind, n in figures["pending"]
        ],
        "chart": chart(figures["progress"]) if figures["progress"] else None,
        "verification": {
            **figures["verification"],
            "outcomes": [
                (value, Outcome(value).label, n) for value, n in figures["verification"]["outcomes"]
            ],
        }
        if "verification" in figures
        else None,
    }
