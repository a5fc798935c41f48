"""Two clicks of one 这不是我本人的意愿 link at the same moment file one report (PostgreSQL
row locks: the graduate's row is locked before the report is looked for)."""

import threading

import pytest
from django.db import connection, connections
from django.utils import timezone

from agreements.online import services as online
from destreg.audit.models import AuditAction, AuditEvent, Notification
from students.coercion import coercion_report_file
from students.models import CoercionReport
from tests import factories as f

pytestmark = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="needs PostgreSQL row locks"
)


@pytest.mark.django_db(transaction=True)
def test_two_clicks_at_once_file_one_report(world, reference_data):
    reviewer = f.make_user("college_reviewer", school=world.school_a, college=world.a1)
    student = f.make_student(f.make_record(world.major_a1))
    for _trial in range(3):
        invitation = f.make_invitation(f.make_employer(verified_at=timezone.now()), student)
        agreement = online.invitation_accept(invitation=invitation, user=student.user)
        online.agreement_fail(agreement=agreement, reviewer=reviewer, reason="x")
        url = Notification.objects.filter(user=student.user).exclude(report_url="").first()
        token = url.report_url.rstrip("/").rsplit("/", 1)[1]
        barrier = threading.Barrier(2)
        filed: list[int] = []

        def click(barrier=barrier, filed=filed, token=token):
            barrier.wait()
            try:
                filed.append(coercion_report_file(user=student.user, token=token, text="t").pk)
            finally:
                connections.close_all()

        threads = [threading.Thread(target=click) for _ in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert len(filed) == 2 and filed[0] == filed[1]
        report = CoercionReport.objects.get(pk=filed[0])
        assert CoercionReport.objects.filter(event=report.event).count() == 1
        assert (
            AuditEvent.objects.for_object(report)
            .filter(action=AuditAction.REPORT_NOT_MY_WILL)
            .count()
            == 1
        )
