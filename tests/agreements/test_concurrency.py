"""Races on PostgreSQL: row locks plus the partial unique index keep one signing per student."""

import threading

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection, connections

from agreements.models import Agreement, Termination
from agreements.online import services
from destreg.audit.models import AuditEvent
from destreg.lib.decisions import decision_state
from tests import factories as f

pytestmark = [
    pytest.mark.skipif(connection.vendor != "postgresql", reason="needs PostgreSQL row locks"),
    pytest.mark.django_db(transaction=True),
]
TRIALS = 10


def race(*actions) -> list[str]:
    """Run the actions at the same moment in threads; return 'ok' or the error's name each."""
    barrier = threading.Barrier(len(actions))
    results: list[str] = [""] * len(actions)

    def run(index, action):
        barrier.wait()
        try:
            action()
            results[index] = "ok"
        except (PermissionDenied, ValidationError) as error:
            results[index] = type(error).__name__
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(i, a)) for i, a in enumerate(actions)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results


def test_accepting_two_invitations_at_once_makes_one_agreement(world):
    employers = [f.make_employer(verified_at="2026-01-01T00:00Z") for _ in range(2)]
    for _ in range(TRIALS):
        student = f.make_student(f.make_record(world.major_a1))
        first, second = (f.make_invitation(e, student) for e in employers)
        results = race(
            lambda i=first, u=student.user: services.invitation_accept(invitation=i, user=u),
            lambda i=second, u=student.user: services.invitation_accept(invitation=i, user=u),
        )
        assert sorted(results) == ["PermissionDenied", "ok"]
        assert Agreement.objects.filter(student=student).count() == 1


def test_two_reviewers_approving_at_once_approve_once(world, college_reviewer):
    other = f.make_user("college_reviewer", school=world.school_a, college=world.a1)
    employer = f.make_employer(verified_at="2026-01-01T00:00Z")
    for _ in range(TRIALS):
        student = f.make_student(f.make_record(world.major_a1))
        invitation = f.make_invitation(employer, student)
        agreement = services.invitation_accept(invitation=invitation, user=student.user)
        results = race(
            lambda a=agreement: services.agreement_approve(agreement=a, reviewer=college_reviewer),
            lambda a=agreement: services.agreement_approve(agreement=a, reviewer=other),
        )
        assert sorted(results) == ["PermissionDenied", "ok"]
        assert Agreement.objects.get(pk=agreement.pk).status == "school_review"
        events = AuditEvent.objects.for_object(agreement).filter(action="college_approve")
        assert events.count() == 1


def test_an_admin_double_click_approves_the_college_stage_once(world, platform_admin):
    """Both clicks carry the state the page showed: the second waits for the first's lock,
    then finds the agreement moved and changes nothing (it used to sign it)."""
    employer = f.make_employer(verified_at="2026-01-01T00:00Z")
    for _ in range(TRIALS):
        student = f.make_student(f.make_record(world.major_a1))
        invitation = f.make_invitation(employer, student)
        agreement = services.invitation_accept(invitation=invitation, user=student.user)
        seen = decision_state(agreement)
        click = lambda a=agreement, s=seen: services.agreement_approve(  # noqa: E731
            agreement=a, reviewer=platform_admin, expected_state=s
        )
        assert sorted(race(click, click)) == ["ValidationError", "ok"]
        agreement.refresh_from_db()
        assert (agreement.status, agreement.number) == ("school_review", None)
        actions = AuditEvent.objects.for_object(agreement).values_list("action", flat=True)
        assert list(actions) == ["accept", "college_approve"]


def test_final_approval_racing_a_termination_request(world, college_reviewer, school_reviewer):
    """The school signs while the student already asks to terminate: the request only
    succeeds if it ran after the signing, and never leaves a termination on an unsigned
    agreement."""
    employer = f.make_employer(verified_at="2026-01-01T00:00Z")
    for _ in range(TRIALS):
        student = f.make_student(f.make_record(world.major_a1))
        invitation = f.make_invitation(employer, student)
        agreement = services.invitation_accept(invitation=invitation, user=student.user)
        services.agreement_approve(agreement=agreement, reviewer=college_reviewer)
        results = race(
            lambda a=agreement: services.agreement_approve(agreement=a, reviewer=school_reviewer),
            lambda a=agreement, s=student: services.termination_request(
                agreement=a, user=s.user, reason="race"
            ),
        )
        assert results[0] == "ok"
        agreement = Agreement.objects.get(pk=agreement.pk)
        assert agreement.status == "signed" and agreement.number
        terminations = Termination.objects.filter(agreement=agreement).count()
        assert terminations == (1 if results[1] == "ok" else 0)


def test_two_colleagues_pressing_send_at_once_send_the_batch_once(world, reference_data):
    from agreements.batches import services as batches
    from agreements.models import Invitation, InvitationBatch, TermTemplate
    from tests.agreements.test_batch_invitations import csv_file

    employer = f.make_employer(verified_at="2026-01-01T00:00Z")
    first, second = (f.make_user("employer", employer=employer) for _ in range(2))
    template = TermTemplate.objects.create(
        employer=employer, name="t", job_category=f.code("job_category", "13"),
        position="p", work_location="w", hukou="none", updated_by=first,
    )  # fmt: skip
    for _ in range(3):
        students = [f.make_student(f.make_record(world.major_a1)) for _ in range(2)]
        batch = batches.batch_upload(
            user=first,
            template=template,
            handle=csv_file([(s.real_name, s.id_number) for s in students]),
            filename="a.csv",
        )
        results = race(
            lambda b=batch: batches.batch_send(user=first, batch=b),
            lambda b=batch: batches.batch_send(user=second, batch=b),
        )
        assert sorted(results) == ["PermissionDenied", "ok"]
        assert Invitation.objects.filter(student__in=students).count() == 2
        assert InvitationBatch.objects.get(pk=batch.pk).sent_count == 2
