"""Approvals at the same moment in one college add to the same counters on PostgreSQL: none
is lost, none deadlocks (students/tallies.py updates counters in one key order)."""

import threading
import traceback

import pytest
from django.db import connection, connections, transaction

from destreg.accounts.models import Role
from reviews import stats
from students.destinations import claim_approve
from students.models import DestinationPath, RegistryRecord, Student
from students.tallies import differences
from tests import factories as f

pytestmark = [
    pytest.mark.skipif(connection.vendor != "postgresql", reason="needs PostgreSQL row locks"),
    pytest.mark.django_db(transaction=True),
]
THREADS, TRIALS = 4, 2


def race(*actions) -> list[str]:
    barrier = threading.Barrier(len(actions))
    results: list[str] = [""] * len(actions)

    def run(index, action):
        barrier.wait()
        try:
            action()
            results[index] = "ok"
        except Exception as error:
            results[index] = "".join(traceback.format_exception(error))
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(i, a)) for i, a in enumerate(actions)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results


def test_destinations_approved_at_once_in_one_major_lose_no_count(world):
    """Each thread runs what an approval's transaction runs for the tallies: lock the
    student, then ``claim_approve`` (students/destinations.py). The agreements' own door is
    not raced here: django-fsm's refresh_from_db flips the protected flag on the shared
    field, which two threads of one process trip over (see the report)."""
    reviewer = f.make_user(Role.SCHOOL_REVIEWER, school=world.school_a)
    codes = ["10", "11"]
    for trial in range(TRIALS):
        students = [
            f.make_student(f.make_record(world.major_a1 if n % 3 else world.major_a2))
            for n in range(THREADS)
        ]

        def approve(student, code):
            with transaction.atomic():
                locked = Student.objects.select_for_update().get(pk=student.pk)
                claim_approve(
                    student=locked, path=DestinationPath.ONLINE, object_id=0, destination_code=code
                )

        results = race(
            *(lambda s=student, c=codes[n % 2]: approve(s, c) for n, student in enumerate(students))
        )
        assert results == ["ok"] * THREADS
        placed = (trial + 1) * THREADS
        assert RegistryRecord.objects.exclude(destination=None).count() == placed
        assert differences() == {}
        figures = stats.counts(reviewer)
        assert (figures["overall"].total, figures["overall"].placed) == (placed, placed)
