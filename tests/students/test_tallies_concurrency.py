"""Approvals at the same moment in one college add to the same counters on PostgreSQL: none
is lost, none deadlocks (students/tallies.py updates counters in one key order)."""

import threading

import pytest
from django.db import connection, connections

from agreements.models import Agreement
from agreements.online import services
from destreg.accounts.models import Role
from reviews import stats
from students.models import RegistryRecord
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
            results[index] = repr(error)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(i, a)) for i, a in enumerate(actions)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results


def test_approvals_at_once_in_one_college_lose_no_count(world, college_reviewer):
    reviewers = [f.make_user(Role.SCHOOL_REVIEWER, school=world.school_a) for _ in range(THREADS)]
    employer = f.make_employer(verified_at="2026-01-01T00:00Z")
    for trial in range(TRIALS):
        agreements = []
        for _ in range(THREADS):
            # Two majors: the approvals touch the same counter and a neighbour, in turns.
            major = world.major_a1 if len(agreements) % 2 else world.major_a2
            student = f.make_student(f.make_record(major))
            invitation = f.make_invitation(employer, student)
            agreement = services.invitation_accept(invitation=invitation, user=student.user)
            reviewer = college_reviewer
            if major == world.major_a2:
                reviewer = f.make_user(
                    Role.COLLEGE_REVIEWER, school=world.school_a, college=world.a2
                )
            services.agreement_approve(agreement=agreement, reviewer=reviewer)
            agreements.append(Agreement.objects.get(pk=agreement.pk))
        results = race(
            *(
                lambda a=agreement, r=reviewer: services.agreement_approve(agreement=a, reviewer=r)
                for agreement, reviewer in zip(agreements, reviewers, strict=True)
            )
        )
        assert results == ["ok"] * THREADS
        placed = (trial + 1) * THREADS
        assert RegistryRecord.objects.exclude(destination=None).count() == placed
        assert differences() == {}
        figures = stats.counts(reviewers[0])
        assert (figures["overall"].total, figures["overall"].placed) == (placed, placed)
