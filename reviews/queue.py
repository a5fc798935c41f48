"""The review queue as a changelist: filters, search, facet counts and keyset pages.

Everything reads ``ReviewTask`` (one indexed row per waiting item), so a page
costs the same few queries however long the queue is.
"""

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db.models import Count, Q, QuerySet
from django.urls import reverse
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext_lazy as _

from destreg.audit.models import ReviewTask

PAGE_SIZE = 50
WAITING = {  # filter value → minimum days waiting
    "1": 1,
    "3": 3,
    "7": 7,
}
FACETS = ["stage", "kind", "college", "major", "education_level", "destination"]
DETAIL_URL = {
    "registry_import": "reviews:registry_request",
    "registry_update": "reviews:registry_request",
    "online": "reviews:agreement",
    "offline": "reviews:registration",
    "offline_scan": "reviews:registration",
    "paper": "reviews:registration",
    "other": "reviews:registration",
    "termination": "reviews:termination",
}


def detail_url(task: ReviewTask) -> str:
    return reverse(DETAIL_URL[task.kind], args=[task.object_id])


def next_task_url(user) -> str | None:
    """The oldest item still waiting for ``user`` ("approve and open next")."""
    task = ReviewTask.objects.visible_to(user).order_by("waiting_since", "id").first()
    return detail_url(task) if task else None


def filtered(base: QuerySet[ReviewTask], params) -> QuerySet[ReviewTask]:
    tasks = base
    for name in FACETS:
        value = params.get(name)
        if value:
            tasks = tasks.filter(**{name if name in ("stage", "kind") else f"{name}_id": value})
    days = WAITING.get(params.get("waiting", ""))
    if days:
        tasks = tasks.filter(waiting_since__lte=timezone.now() - timedelta(days=days))
    query = params.get("q", "").strip()
    if query:
        match = Q(student_name__contains=query) | Q(student_no=query) | Q(unit_name__contains=query)
        if query.isdigit() or (len(query) == 4 and query[:3].isdigit()):
            match |= Q(id_last4=query[-4:].upper())
        tasks = tasks.filter(match)
    return tasks


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
            rows = (
                tasks.exclude(**{f"{name}__isnull": True})
                .values_list(f"{name}_id", f"{name}__name")
                .annotate(n=Count("id"))
                .order_by(f"{name}__name")
            )
            result[name] = [(str(pk), label, n) for pk, label, n in rows]
    return result


@dataclass
class Page:
    tasks: list[ReviewTask]
    next_cursor: str


def page(tasks: QuerySet[ReviewTask], cursor: str = "") -> Page:
    """Oldest first; ``cursor`` is "<waiting_since ISO>|<id>" of the last row seen."""
    if cursor and "|" in cursor:
        stamp, _sep, last_id = cursor.rpartition("|")
        since = parse_datetime(stamp)
        if since is not None and last_id.isdigit():
            tasks = tasks.filter(
                Q(waiting_since__gt=since) | Q(waiting_since=since, id__gt=int(last_id))
            )
    rows = list(
        tasks.select_related("college", "major").order_by("waiting_since", "id")[: PAGE_SIZE + 1]
    )
    more = len(rows) > PAGE_SIZE
    rows = rows[:PAGE_SIZE]
    next_cursor = f"{rows[-1].waiting_since.isoformat()}|{rows[-1].id}" if more else ""
    return Page(rows, next_cursor)


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
