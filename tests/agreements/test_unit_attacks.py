"""Attacks on 申请解约 / 作废申请, the unit portal and the one-time termination links, found
by a review briefed as an attacker. Each test asserts the safe behaviour."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from agreements.models import Registration, Termination, TerminationLink
from agreements.registrations import changes
from agreements.registrations import services as reg
from destreg.accounts.models import Role
from employers.models import EmployerVerification
from tests import factories as f
from tests.agreements.test_registration_changes import approved

UNIT_USCC = "91110000100000000R"  # the unit of the `offline` fixture; no account here


@pytest.fixture
def offline(student, college_reviewer, school_reviewer):
    """An approved offline e-agreement; contact hr@example.com; its unit has no account."""
    return approved(student, "offline", college_reviewer, school_reviewer)


# --- F1: the student chooses where the "unit's" answer link goes -------------------------


def test_f1_student_cannot_redirect_the_units_answer_link_to_own_address(
    client, offline, student, mailoutbox, django_capture_on_commit_callbacks
):
    """The student overrides the reviewed contact e-mail with their own address, gets the
    unit's one-time link, and agrees 'as the unit' to their own termination request."""
    client.force_login(student.user)
    url = reverse("agreements:registration_terminate", args=[offline.pk])
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(url, {"reason": "个人原因", "unit_email": "me@attacker.example"})
    assert response.status_code == 302
    link = TerminationLink.objects.get()
    # forge the unit's consent with the link the student received
    client.logout()
    client.post(reverse("agreements:termination_link", args=[link.token]), {"agree": "1"})
    termination = Termination.objects.get()
    # SAFE: the link goes to the contact e-mail reviewed on the agreement, never to an
    # address the requester types; so the requester cannot answer for the other party.
    assert link.email == "hr@example.com", (
        f"answer link sent to {link.email}; termination now {termination.status}"
    )


# --- F2: a unit verified for school B acts on school A's registrations -------------------


@pytest.fixture
def unit_verified_for_b_only(world, reference_data):
    employer = f.make_employer(uscc=UNIT_USCC, verified_at=None)
    employer.verified_at = timezone.now()
    employer.save(update_fields=["verified_at"])
    EmployerVerification.objects.create(employer=employer, school=world.school_b)
    assert not employer.may_invite_from(world.school_a.pk)
    return f.make_user(Role.EMPLOYER, employer=employer)


def test_f2_unit_verified_only_by_another_school_gets_no_portal_access(
    client, offline, world, unit_verified_for_b_only
):
    """Verification is per school (EmployerVerification.school), but is_unit_of/unit_rows/
    has_unit_account only look at Employer.verified_at: a unit vouched for by school B's
    reviewer sees school A's graduates in its portal and can terminate their agreements."""
    client.force_login(unit_verified_for_b_only)
    page = client.get(reverse("agreements:unit_registrations")).content.decode()
    response = client.post(
        reverse("agreements:registration_terminate", args=[offline.pk]), {"reason": "岗位取消"}
    )
    leaked = offline.student.real_name in page
    assert not leaked and response.status_code == 404 and not Termination.objects.exists(), (
        f"portal lists school A graduate: {leaked}; terminate -> {response.status_code}"
    )


def test_f2b_unit_verified_by_another_school_silences_the_link_to_the_real_contact(
    client, offline, student, unit_verified_for_b_only
):
    """Same root cause: once ANY verified account claims the USCC, the student is no longer
    asked for an address and no link goes to the contact on the agreement: the answer goes
    to the claimant's portal only."""
    changes.registration_termination_request(
        registration=offline, user=student.user, reason="个人原因"
    )
    assert TerminationLink.objects.filter(email="hr@example.com").exists()


# --- F3: e-mail flooding / link churn through the public link request -------------------


def test_f3_termination_link_request_is_throttled(
    client, offline, mailoutbox, django_capture_on_commit_callbacks
):
    url = reverse("agreements:termination_link_request")
    offline.refresh_from_db()
    for _ in range(20):
        with django_capture_on_commit_callbacks(execute=True):
            client.post(url, {"number": offline.number, "email": "hr@example.com"})
    # SAFE: a handful of mails at most; each request also kills the previous live link.
    assert len(mailoutbox) <= 3, f"{len(mailoutbox)} e-mails sent to the unit's contact"


# --- F4: a request the unit never answers blocks the graduate forever --------------------


def test_f6_unit_cannot_reach_a_students_draft(client, student, employer_user):
    draft = reg.registration_save_draft(
        student=student, path="paper", values={"unit_uscc": employer_user.employer.uscc}
    )
    assert draft.status == Registration.Status.DRAFT
    client.force_login(employer_user)
    response = client.post(
        reverse("agreements:registration_terminate", args=[draft.pk]), {"reason": "r"}
    )
    assert response.status_code == 404, (
        f"draft pk {draft.pk} answers {response.status_code} to the unit (other pks: 404)"
    )


# --- checked and safe (regression guards) -------------------------------------------------


def test_safe_link_request_answers_the_same_whatever_the_number(client, offline):
    url = reverse("agreements:termination_link_request")
    offline.refresh_from_db()
    a = client.post(url, {"number": offline.number, "email": "hr@example.com"})
    b = client.post(url, {"number": "2099XXXX000001", "email": "hr@example.com"})
    c = client.post(url, {"number": offline.number, "email": "x@example.com"})
    import re

    strip = lambda r: re.sub(r'value="[A-Za-z0-9]{64}"', "", r.content.decode())  # noqa: E731
    assert a.status_code == b.status_code == c.status_code == 200
    assert strip(a) == strip(b) == strip(c)


def test_safe_notification_params_are_not_reinterpreted(student):
    from destreg.audit.models import render_message

    text = render_message(
        "%(name)s asks to terminate your agreement; please answer.",
        {"name": "%(name)s %(x)s {0} %s"},
    )
    assert text.startswith("%(name)s %(x)s {0} %s")  # the value shown verbatim, once


def test_safe_bulk_decision_of_another_college_is_refused(
    client, student, other_college_reviewer, college_reviewer
):
    from destreg.audit.models import ReviewTask

    item = reg.registration_save_draft(
        student=student,
        path="paper",
        values={
            "unit_name": "单位",
            "unit_uscc": UNIT_USCC,
            "paper_number": "P-1",
            "proof": SimpleUploadedFile("p.pdf", f.pdf_bytes(), content_type="application/pdf"),
        },
    )
    reg.registration_submit(registration=item, user=student.user)
    task = ReviewTask.objects.get()
    client.force_login(other_college_reviewer)
    client.post(
        reverse("reviews:bulk"),
        {"task": f.bulk_value(task), "decision": "approve", "confirmed": "1", "comment": ""},
    )
    item.refresh_from_db()
    assert item.status == "college_review"
