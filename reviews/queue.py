"""The review queue as a changelist: filters, search, facet counts and keyset pages.

Everything reads ``ReviewTask`` (one indexed row per waiting item), so a page
costs the same few queries however long the queue is.
"""

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from django.db.models import Count, Q, QuerySet, Sum
from django.urls import reverse
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from destreg.audit.models import ReviewFacetCount, ReviewTask
from destreg.lib.decisions import parse_bulk_value
from destreg.lib.params import parse_id
from destreg.reference.models import Code, College, Major
from reviews.decisions import BY_KIND

PAGE_SIZE = 50
WAITING = {  # filter value → minimum days waiting
    "1": 1,
    "3": 3,
    "7": 7,
}
FACETS = ["stage", "kind", "college", "major", "education_level", "destination"]
# Where each kind of item is decided (reviews.decisions declares it once).
DETAIL_URL = {kind: reviewed.detail for kind, reviewed in BY_KIND.items()}


def detail_url(task: ReviewTask) -> str:
    return reverse(DETAIL_URL[task.kind], args=[task.object_id])


def next_task_url(user) -> str | None:
    """The oldest item still waiting for ``user`` ("approve and open next")."""
    task = ReviewTask.objects.visible_to(user).order_by("waiting_since", "id").first()
    return detail_url(task) if task else None


def filtered(base: QuerySet[ReviewTask], params) -> QuerySet[ReviewTask]:
    tasks = base
    for name in FACETS:
        value = params.get(name, "")
        if name in ("stage", "kind"):
            if value:
                tasks = tasks.filter(**{name: value})
        elif (pk := parse_id(value)) is not None:  # ids only; anything else is ignored
            tasks = tasks.filter(**{f"{name}_id": pk})
    days = WAITING.get(params.get("waiting", ""))
    if days:
        tasks = tasks.filter(waiting_since__lte=timezone.now() - timedelta(days=days))
    query = params.get("q", "").strip()
    if query:
        match = Q(student_name__contains=query) | Q(student_no=query) | Q(unit_name__contains=query)
        if query.isascii() and (query.isdigit() or (len(query) == 4 and query[:3].isdigit())):
            match |= Q(id_last4=query[-4:].upper())
        tasks = tasks.filter(match)
    return tasks


def scope_counters(user) -> QuerySet[ReviewFacetCount]:
    """The facet counters of the tasks ``ReviewTask.objects.visible_to(user)`` returns."""
    counters = ReviewFacetCount.objects.filter(n__gt=0)
    if user.is_platform_admin:
        return counters
    if user.is_college_reviewer:
        return counters.filter(stage="college", college_id=user.college_id)
    if user.is_school_reviewer:
        return counters.filter(stage="school", school_id=user.school_id)
    return counters.none()


def _code_names(ids) -> dict[int, str]:
    return {code.pk: code.display_name for code in Code.objects.filter(pk__in=ids)}


def counted_facets(user) -> tuple[int, dict[str, list[tuple[str, str, int]]]]:
    """Total and facet counts of the unfiltered queue from the counters: a few small
    queries, whatever the queue's length."""
    sums: dict[str, dict[str, int]] = {}
    for facet, value, n in (
        scope_counters(user).values_list("facet", "value").annotate(total=Sum("n"))
    ):
        sums.setdefault(facet, {})[value] = n
    total = sum(sums.get("kind", {}).values())
    names = {
        "college": dict(
            College.objects.filter(pk__in=_ids(sums, "college")).values_list("pk", "name")
        ),
        "major": dict(Major.objects.filter(pk__in=_ids(sums, "major")).values_list("pk", "name")),
        # Codes in the reader's language (Code.display_name).
        "education_level": _code_names(_ids(sums, "education_level")),
        "destination": _code_names(_ids(sums, "destination")),
    }
    kinds = dict(ReviewTask.Kind.choices)
    stage_label = {
        "college": ReviewTask.Stage.COLLEGE.label,
        "school": ReviewTask.Stage.SCHOOL.label,
    }
    result: dict[str, list[tuple[str, str, int]]] = {
        "stage": [(stage, str(stage_label[stage]), total)]
        if (stage := _stage_of(user)) and total
        else [],
    }
    for facet in FACETS[1:]:
        values = sums.get(facet, {})
        labels: dict[str, str] = (
            {k: str(v) for k, v in kinds.items()}
            if facet == "kind"
            else {str(k): v for k, v in names[facet].items()}
        )
        result[facet] = sorted(
            (
                (value, str(labels.get(value, value)), n)
                for value, n in values.items()
                if value and n
            ),
            key=lambda row: row[1],
        )
    return total, result


def _ids(sums: dict, facet: str) -> list[int]:
    return [int(value) for value in sums.get(facet, {}) if value.isdigit()]


def _stage_of(user) -> str:
    if user.is_college_reviewer:
        return "college"
    if user.is_school_reviewer:
        return "school"
    return ""


def is_filtered(params) -> bool:
    return any(params.get(name) for name in [*FACETS, "waiting", "q"])


CODE_FACETS = ("education_level", "destination")


def facet_counts(tasks: QuerySet[ReviewTask]) -> dict[str, list[tuple[str, str, int]]]:
    """For each facet: (value, label, count) among the filtered tasks; one query each."""
    labels = {
        "stage": dict(ReviewTask.Stage.choices),
        "kind": dict(ReviewTask.Kind.choices),
    }
    result = {}
    for name in FACETS:
        if name in labels:
            rows = tasks.values_list(name).annotate(n=Count("id")).order_by(name)
            result[name] = [(v, str(labels[name].get(v, v)), n) for v, n in rows]
        else:
            # A code's English name in the English interface (as Code.display_name).
            english = name in CODE_FACETS and (get_language() or "").startswith("en")
            fields = [f"{name}_id", f"{name}__name", *([f"{name}__name_en"] if english else [])]
            rows = (
                tasks.exclude(**{f"{name}__isnull": True})
                .values_list(*fields)
                .annotate(n=Count("id"))
                .order_by(f"{name}__name")
            )
            result[name] = [(str(pk), (rest and rest[0]) or zh, n) for pk, zh, *rest, n in rows]
    return result


@dataclass
class Page:
    tasks: list[ReviewTask]
    next_cursor: str


def parse_cursor(cursor: str) -> tuple[datetime, int] | None:
    """The (waiting_since, id) of a "<waiting_since ISO>|<id>" cursor, or None when the
    cursor is not one we wrote (a hand-edited link then simply starts at the top)."""
    stamp, _sep, last_id = cursor.rpartition("|")
    pk = parse_id(last_id)
    if pk is None or not stamp.isascii() or len(stamp) > 40:
        return None
    try:
        since = parse_datetime(stamp)
        if since is None or timezone.is_naive(since):
            return None
        since.astimezone(UTC)  # a date at the edge of the calendar overflows in UTC
    except (ValueError, OverflowError):  # a well-formed but impossible date
        return None
    return since, pk


def page(tasks: QuerySet[ReviewTask], cursor: str = "") -> Page:
    """Oldest first; ``cursor`` is "<waiting_since ISO>|<id>" of the last row seen."""
    if position := parse_cursor(cursor):
        since, last_id = position
        tasks = tasks.filter(Q(waiting_since__gt=since) | Q(waiting_since=since, id__gt=last_id))
    rows = list(
        tasks.select_related("college", "major").order_by("waiting_since", "id")[: PAGE_SIZE + 1]
    )
    more = len(rows) > PAGE_SIZE
    rows = rows[:PAGE_SIZE]
    next_cursor = f"{rows[-1].waiting_since.isoformat()}|{rows[-1].id}" if more else ""
    return Page(rows, next_cursor)


def position(total: int, cursor: str, number: str) -> tuple[int, int]:
    """(this page's number, the number of pages) for "共 N 条，第 x / y 页".

    Keyset pages have no number of their own, so the "next page" link carries it
    (``number``, read only together with a ``cursor``). Rows decided since shift it a
    little; a hand-edited one is kept within the page count."""
    pages = max(1, -(-total // PAGE_SIZE))
    if not cursor:
        return 1, pages
    return min(parse_id(number) or 2, pages), pages


def chosen(user, values: list[str]) -> list[ReviewTask]:
    """The rows behind the queue's checkbox values that still wait for ``user``, in the
    order chosen: what a bulk decision's confirm page lists (one query)."""
    ids = [pk for value in values if (pk := parse_bulk_value(value)[0]) is not None]
    found = ReviewTask.objects.visible_to(user).select_related("college").in_bulk(ids)
    return [found[pk] for pk in dict.fromkeys(ids) if pk in found]


def overdue_after(days: int) -> datetime:
    return timezone.now() - timedelta(days=days)


FACET_LABELS = {
    "stage": _("Stage"),
    "kind": _("Kind"),
    "college": _("College"),
    "major": _("Major"),
    "education_level": _("Education level"),
    "destination": _("Graduate destination"),
}
