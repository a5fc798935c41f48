"""What a confirmed graduate's home page shows, kept in the shared cache.

The home page is the page graduates open most, above all in the weeks before graduation,
and what it shows, their registry record and their latest registry requests, changes a few
times a year. So it is read once a minute at most: every write that changes either marks
the graduate's entry forgotten (destreg/lib/cache.py):

- saves and deletes of a record or the profile (destreg/invalidation.py);
- every state change of a registry request, an agreement or a registration, through the
  state-change door (destreg/audit/changes.py; the registered destination moves with them);
- the registry import's upsert, which writes with bulk SQL, calls ``forget_home`` itself.

It also lists the graduate's open items, most urgent first: what they must do next (answer an
invitation before its deadline, fix an application sent back, return a stamped agreement,
answer a termination) and what waits for somebody else. ``students`` imports no app built on
it (the layering contracts in pyproject.toml), so the apps that own those items register a
source here from their ``AppConfig.ready`` (``register_open_items``); their state changes go
through the door like the rest, and destreg/invalidation.py names the models they come from.
An invitation whose deadline passes leaves the list when it is read, before the expiry job.

For display only: services read the database, never this. The record's school, college,
major and codes are filled in from each process's reference cache after reading, not stored.
"""

import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from destreg.lib.cache import forget, remember
from destreg.reference import cache as references
from students.binding import record_to_confirm
from students.models import RegistryRecord, RegistryRequest, Student

HOME_CACHE_SECONDS = 60
RECENT_REQUESTS = 10


# An open item's urgency, most urgent first.
ANSWER_BY_DEADLINE = 0  # an invitation: answerable until its deadline
ANSWER = 1  # a termination the other party asked for
FIX = 2  # 退回修改: sent back to the graduate
RETURN_SCAN = 3  # an offline e-agreement waiting for its stamped scan
FINISH = 4  # a draft (暂存) never submitted
WAITING = 9  # somebody else's turn: shown for information
URGENT = timedelta(days=1)
_NEVER = datetime.max.replace(tzinfo=UTC)
Text = str | Promise  # a lazy translation is shown in the reader's language


@dataclass
class OpenItem:
    """One thing in progress on the graduate's home page. The labels are lazy translations
    (cached once, shown in each reader's language); ``subject`` and ``note`` are data."""

    rank: int
    title: Text
    url: str
    # The link's label when it is the graduate's turn; empty when they wait for others.
    action: Text = ""
    label: Text = ""  # e.g. the path or the status
    subject: str = ""  # the unit, the position
    note: str = ""  # the reviewer's comment, a termination's reason
    note_label: Text = ""
    hint: Text = ""  # how to do it
    deadline: datetime | None = None
    since: datetime | None = None

    @property
    def is_live(self) -> bool:
        return self.deadline is None or self.deadline > timezone.now()

    @property
    def is_urgent(self) -> bool:
        return self.deadline is not None and self.deadline - timezone.now() < URGENT

    @property
    def left(self) -> "TimeLeft | None":
        return time_left(self.deadline) if self.deadline else None

    def sort_key(self) -> tuple:
        return (self.rank, self.deadline or _NEVER, self.since or _NEVER)


@dataclass(frozen=True)
class TimeLeft:
    """Whole days to a deadline; on its last day, hours (rounded up)."""

    days: int
    hours: int


def time_left(deadline: datetime) -> TimeLeft:
    left = deadline - timezone.now()
    return TimeLeft(max(left.days, 0), max(math.ceil(left.total_seconds() / 3600), 1))


OpenItemSource = Callable[[Student], Iterable[OpenItem]]
_sources: list[OpenItemSource] = []


def register_open_items(source: OpenItemSource) -> None:
    """Add ``source(student)`` to the home page's open items (an app's ``ready``). It runs
    when the cached home is read again, so every state change of what it lists must forget
    the graduate's home (destreg/invalidation.py)."""
    if source not in _sources:
        _sources.append(source)


@dataclass
class Home:
    record: RegistryRecord | None
    requests: list[RegistryRequest]
    # Why no record is offered although the registry has one (it cannot tell which).
    problem: str = ""
    items: list[OpenItem] = field(default_factory=list)

    def to_do(self) -> list[OpenItem]:
        """The graduate's turn, most urgent first (past deadlines left out)."""
        return [item for item in self.items if item.action and item.is_live]

    def waiting(self) -> list[OpenItem]:
        """Waiting for somebody else (a review, the other party)."""
        return [item for item in self.items if not item.action and item.is_live]


def home_cache_key(student_id) -> str:
    return f"students:home:{student_id}"


def home_for(student: Student) -> Home:
    """The record and latest requests to show. A graduate who has not confirmed their
    registry yet is shown the record to confirm (``record_to_confirm``), read afresh each
    time."""
    if not student.is_confirmed:
        try:
            record = record_to_confirm(student)
        except ValidationError as refused:
            return Home(None, _recent_requests(student), problem=" ".join(refused.messages))
        return Home(record, _recent_requests(student))
    home = remember(home_cache_key(student.pk), lambda: _read(student), HOME_CACHE_SECONDS)
    if home.record is not None:
        references.attach_one(home.record)
    return home


def _read(student: Student) -> Home:
    # Confirmed: the record exists (the confirmed_student_has_record constraint).
    requests = _recent_requests(student)
    record = RegistryRecord.objects.get(student=student)
    return Home(record, requests, items=open_items(student, requests))


def open_items(student: Student, requests: list[RegistryRequest]) -> list[OpenItem]:
    """Everything in progress for a confirmed graduate, most urgent first: the registered
    sources' items and the registry requests waiting for the school."""
    items = [item for source in _sources for item in source(student)]
    items += [
        OpenItem(
            rank=WAITING,
            title=_("Registry request"),
            label=RegistryRequest.Kind(request.kind).label,
            url=reverse("students:request_detail", args=[request.pk]),
            since=request.created_at,
        )
        for request in requests
        if request.status == RegistryRequest.Status.SUBMITTED
    ]
    return sorted(items, key=OpenItem.sort_key)


def _recent_requests(student: Student) -> list[RegistryRequest]:
    # "student": a related manager sets it on every row, and a deferred one is read per row.
    requests = student.requests.only("student", "kind", "status", "created_at")
    return list(requests.order_by("-created_at")[:RECENT_REQUESTS])


def forget_home(*student_ids) -> None:
    forget(*(home_cache_key(pk) for pk in student_ids))


def home_keys_of(item) -> list[str]:
    """The home page an item of the graduate ``item.student_id`` shows on (the door)."""
    return [home_cache_key(item.student_id)]


def forget_student_home(student: Student, update_fields=None) -> None:
    forget_home(student.pk)


def forget_record_homes(record: RegistryRecord, update_fields=None) -> None:
    forget_home(*Student.objects.filter(record_id=record.pk).values_list("pk", flat=True))
