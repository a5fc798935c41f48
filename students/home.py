"""What a confirmed graduate's home page shows, kept in the shared cache.

The home page is the page graduates open most, above all in the weeks before graduation,
and what it shows, their registry record and their latest registry requests, changes a few
times a year. So it is read once a minute at most: every write that changes either marks
the graduate's entry forgotten (destreg/lib/cache.py):

- saves and deletes of a record or the profile (destreg/invalidation.py);
- every state change of a registry request, an agreement or a registration, through the
  state-change door (destreg/audit/changes.py; the registered destination moves with them);
- the registry import's upsert, which writes with bulk SQL, calls ``forget_home`` itself.

For display only: services read the database, never this. The record's school, college,
major and codes are filled in from each process's reference cache after reading, not stored.
"""

from dataclasses import dataclass

from django.core.exceptions import ValidationError

from destreg.lib.cache import forget, remember
from destreg.reference import cache as references
from students.binding import find_current_record
from students.models import RegistryRecord, RegistryRequest, Student

HOME_CACHE_SECONDS = 60
RECENT_REQUESTS = 10


@dataclass
class Home:
    record: RegistryRecord | None
    requests: list[RegistryRequest]
    # Why no record is offered although the registry has one (it cannot tell which).
    problem: str = ""


def home_cache_key(student_id) -> str:
    return f"students:home:{student_id}"


def home_for(student: Student) -> Home:
    """The record and latest requests to show. A graduate who has not confirmed their
    registry yet is shown the current record that matches them, read afresh each time."""
    if not student.is_confirmed:
        try:
            record = find_current_record(student)
        except ValidationError as refused:
            return Home(None, _recent_requests(student), problem=" ".join(refused.messages))
        return Home(record, _recent_requests(student))
    home = remember(home_cache_key(student.pk), lambda: _read(student), HOME_CACHE_SECONDS)
    if home.record is not None:
        references.attach_one(home.record)
    return home


def _read(student: Student) -> Home:
    # Confirmed: the record exists (the confirmed_student_has_record constraint).
    return Home(RegistryRecord.objects.get(student=student), _recent_requests(student))


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
