"""撤回申请: the party who asked takes back a termination or void request nobody has decided,
so a request the other party never answers no longer locks the destination for good."""

import pytest
from django.core import mail
from django.urls import reverse
from django.utils import timezone

from agreements.models import Agreement, Registration, Termination, TerminationLink
from agreements.online import services as online
from agreements.registrations import changes
from destreg.audit.models import AuditAction, AuditEvent, Notification, ReviewTask
from tests.agreements.test_registration_changes import approved


def _withdraw(client, user, termination):
    client.force_login(user)
    return client.post(reverse("agreements:change_withdraw", args=[termination.pk]))


@pytest.fixture
def offline(student, college_reviewer, school_reviewer):
    """An approved offline e-agreement with a unit that has no account here."""
    return approved(student, "offline", college_reviewer, school_reviewer)


def test_the_student_withdraws_an_unanswered_request_and_may_ask_again(client, offline, student):
    termination = changes.registration_termination_request(
        registration=offline, user=student.user, reason="已考取研究生"
    )
    link = TerminationLink.objects.get(termination=termination)
    client.force_login(student.user)
    page = client.get(reverse("agreements:registration", args=[offline.pk]))
    assert "撤回申请" in page.content.decode()

    response = _withdraw(client, student.user, termination)

    assert response.status_code == 302
    termination.refresh_from_db()
    assert termination.status == Termination.Status.WITHDRAWN
    assert Registration.objects.get(pk=offline.pk).status == "approved"  # still in force
    link.refresh_from_db()
    assert not link.usable  # the unit's answer link ends with the request
    assert AuditEvent.objects.filter(
        action=AuditAction.WITHDRAW, object_id=termination.pk, actor=student.user
    ).exists()
    page = client.get(reverse("agreements:registration", args=[offline.pk])).content.decode()
    assert "已撤回" in page and "撤回申请" not in page
    # The way is open again: a new request, with a fresh link to the unit.
    mail.outbox.clear()
    again = changes.registration_termination_request(
        registration=offline, user=student.user, reason="再次申请"
    )
    assert again.status == Termination.Status.AWAITING_PARTY
    assert TerminationLink.objects.get(termination=again).usable


def test_the_other_party_is_told_and_its_link_no_longer_answers(client, offline, student):
    termination = changes.registration_termination_request(
        registration=offline, user=student.user, reason="r"
    )
    link = TerminationLink.objects.get(termination=termination)
    _withdraw(client, student.user, termination)
    client.logout()
    page = client.get(reverse("agreements:termination_link", args=[link.token]))
    assert page.status_code == 404
    assert "该链接已过期或已被使用" in page.content.decode()


def test_only_the_requester_may_withdraw(
    client, offline, student, other_student, college_reviewer, school_reviewer, platform_admin
):
    termination = changes.registration_termination_request(
        registration=offline, user=student.user, reason="r"
    )
    for user in (other_student.user, college_reviewer, school_reviewer, platform_admin):
        response = _withdraw(client, user, termination)
        assert response.status_code in (302, 403, 404)
        assert Termination.objects.get(pk=termination.pk).status == "awaiting_party"


def test_a_decided_request_cannot_be_withdrawn(client, offline, student, college_reviewer,
                                               school_reviewer):  # fmt: skip
    termination = changes.registration_termination_request(
        registration=offline, user=student.user, reason="r"
    )
    link = TerminationLink.objects.get(termination=termination)
    changes.registration_termination_answer(termination=termination, agree=False, link=link)
    _withdraw(client, student.user, termination)
    assert Termination.objects.get(pk=termination.pk).status == Termination.Status.REFUSED


def test_a_void_request_under_review_is_withdrawn_and_leaves_the_queue(
    client, student, college_reviewer, school_reviewer
):
    other = approved(student, "other", college_reviewer, school_reviewer)
    termination = changes.void_request(registration=other, user=student.user, reason="想换一个去向")
    assert ReviewTask.objects.filter(object_id=termination.pk).exists()
    _withdraw(client, student.user, termination)
    assert Termination.objects.get(pk=termination.pk).status == "withdrawn"
    assert not ReviewTask.objects.filter(object_id=termination.pk).exists()
    assert Registration.objects.get(pk=other.pk).status == "approved"


def test_an_online_agreements_requester_withdraws_and_the_student_is_told(
    client, signed, student, employer_user
):
    termination = online.termination_request(agreement=signed, user=employer_user, reason="r")
    client.force_login(employer_user)
    page = client.get(reverse("agreements:agreement", args=[signed.pk])).content.decode()
    assert "撤回申请" in page
    # The student (the other party) answers; only the unit may withdraw.
    _withdraw(client, student.user, termination)
    assert Termination.objects.get(pk=termination.pk).status == "awaiting_party"
    before = timezone.now()
    _withdraw(client, employer_user, termination)
    assert Termination.objects.get(pk=termination.pk).status == "withdrawn"
    assert Agreement.objects.get(pk=signed.pk).status == "signed"
    assert Notification.objects.filter(user=student.user, created_at__gte=before).exists()
    assert online.termination_request(agreement=signed, user=student.user, reason="again")
