"""Two first SSO sign-ins of one graduate at the same moment (PostgreSQL row locks)."""

import threading

import pytest
from django.db import connection, connections

from destreg.audit.models import AuditEvent
from students.models import Student
from students.sso import student_for_record
from tests import factories as f

pytestmark = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="needs PostgreSQL row locks"
)


@pytest.mark.django_db(transaction=True)
def test_two_first_sign_ins_at_once_create_one_account(world):
    for trial in range(5):
        record = f.make_record(world.major_a1, student_no=f"30{trial:05d}")
        barrier = threading.Barrier(2)
        outcomes: list[object] = []

        def sign_in(record=record, barrier=barrier, outcomes=outcomes):
            barrier.wait()
            try:
                student = student_for_record(school=world.school_a, student_no=record.student_no)
                outcomes.append(student.pk)
            except Exception as error:  # the test reports any failure
                outcomes.append(error)
            finally:
                connections.close_all()

        threads = [threading.Thread(target=sign_in) for _ in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()

        bound = Student.objects.get(record=record)
        assert outcomes == [bound.pk, bound.pk]
        assert AuditEvent.objects.for_object(bound).filter(action="confirm_registry").count() == 1
