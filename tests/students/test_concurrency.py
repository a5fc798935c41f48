"""Two reviewers deciding the same request at the same moment (PostgreSQL row locks)."""

import threading

import pytest
from django.core.exceptions import PermissionDenied
from django.db import connection, connections

from destreg.audit.models import AuditEvent
from students import binding, codes, services
from students.models import RegistryRequest
from tests import factories as f

pytestmark = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="needs PostgreSQL row locks"
)


@pytest.mark.django_db(transaction=True)
def test_two_reviewers_approving_at_once_approve_once(world):
    student = f.make_student(f.make_record(world.major_a1))
    reviewers = [f.make_user("school_reviewer", school=world.school_a) for _ in range(2)]
    for _trial in range(5):
        request = services.registry_request_submit(
            student=student, kind="update", school=world.school_a, data={"ethnicity": "03"}
        )
        barrier = threading.Barrier(2)
        outcomes: list[str] = []

        def approve(reviewer, request=request, barrier=barrier, outcomes=outcomes):
            barrier.wait()
            try:
                services.registry_request_approve(request=request, reviewer=reviewer)
                outcomes.append("approved")
            except PermissionDenied:
                outcomes.append("refused")
            finally:
                connections.close_all()

        threads = [threading.Thread(target=approve, args=(r,)) for r in reviewers]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()

        assert sorted(outcomes) == ["approved", "refused"]
        assert RegistryRequest.objects.get(pk=request.pk).status == "approved"
        assert AuditEvent.objects.for_object(request).filter(action="approve").count() == 1
        # Put the value back so the next trial has something to correct.
        student.record.ethnicity = f.code("ethnicity", "01")
        student.record.save(update_fields=["ethnicity"])


@pytest.mark.django_db(transaction=True)
def test_two_confirmations_of_one_record_at_once_bind_one_account(world):
    from django.core.exceptions import ValidationError

    from students.models import RegistryCode, Student

    for _trial in range(5):
        record = f.make_record(world.major_a1, mobile="13812345678")
        accounts = [
            f.make_student(real_name=record.name, id_number=record.id_number, confirmed=False)
            for _ in range(2)
        ]
        # Each holds a valid code of its own (a record with a phone gets no activation code).
        for account in accounts:
            binding.registry_code_send(student=account, channel="sms", client_ip="")
        RegistryCode.objects.filter(record=record, kind="sent").update(
            code_hash=codes.code_hash("123456")
        )
        secrets = {accounts[0].pk: "123456", accounts[1].pk: "123456"}
        barrier = threading.Barrier(2)
        outcomes: list[str] = []

        def confirm(student, barrier=barrier, outcomes=outcomes, secrets=secrets):
            barrier.wait()
            try:
                binding.registry_confirm(student=student, code=secrets[student.pk])
                outcomes.append("bound")
            except ValidationError:
                outcomes.append("refused")
            finally:
                connections.close_all()

        threads = [threading.Thread(target=confirm, args=(s,)) for s in accounts]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()

        assert sorted(outcomes) == ["bound", "refused"]
        assert Student.objects.filter(record=record).count() == 1
        assert (
            Student.objects.filter(
                pk__in=[a.pk for a in accounts], confirmed_at__isnull=False
            ).count()
            == 1
        )
