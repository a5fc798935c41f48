"""Reviewers look up graduate records, issue activation codes and unlink accounts."""

import re

import pytest
from django.core import mail
from django.core.exceptions import PermissionDenied, ValidationError
from django.test import TestCase
from django.urls import reverse
from django.utils import timezone

from destreg.audit.models import AuditEvent
from students import binding, services
from students.models import DestinationClaim, RegistryCode, Student
from tests import factories as f

LOOKUP = reverse("reviews:records")
ID_NUMBER = "110101200301010012"


def page_url(record) -> str:
    return reverse("reviews:record", args=[record.pk])


def issue_url(record) -> str:
    return reverse("reviews:record_activation", args=[record.pk])


def unbind_url(record) -> str:
    return reverse("reviews:record_unbind", args=[record.pk])


@pytest.fixture
def record(world):
    return f.make_record(
        world.major_a1,
        name="彭也",
        id_number=ID_NUMBER,
        student_no="20220001",
        mobile="13812345678",
        email="pengye@school.example.edu.cn",
    )


@pytest.fixture
def no_contact(world):
    """A record the school has no phone or e-mail for: what activation codes are for."""
    return f.make_record(world.major_a1, name="彭也", id_number=ID_NUMBER, student_no="20220001")


@pytest.fixture
def bound(record):
    student = f.make_student(record)
    Student.objects.filter(pk=student.pk).update(confirmed_via="code")
    return student


# --- lookup ------------------------------------------------------------------------------------


def test_a_college_reviewer_finds_their_college_s_records_by_number_or_name(
    client, world, record, college_reviewer
):
    elsewhere = f.make_record(world.major_a2, name="彭也二")
    client.force_login(college_reviewer)
    for query in ("20220001", "彭也"):
        page = client.get(LOOKUP, {"q": query}).content.decode()
        assert page_url(record) in page
        assert page_url(elsewhere) not in page


def test_a_school_reviewer_finds_the_whole_school_but_not_another(
    client, world, record, school_reviewer, other_school_reviewer
):
    elsewhere = f.make_record(world.major_a2, name="彭也二")
    client.force_login(school_reviewer)
    page = client.get(LOOKUP, {"q": "彭也"}).content.decode()
    assert page_url(record) in page and page_url(elsewhere) in page
    client.force_login(other_school_reviewer)
    page = client.get(LOOKUP, {"q": "彭也"}).content.decode()
    assert page_url(record) not in page


def test_the_lookup_is_for_reviewers_only(client, student):
    assert client.get(LOOKUP).status_code == 302
    client.force_login(student.user)
    assert client.get(LOOKUP, {"q": "彭也"}).status_code == 403


def test_the_lookup_reads_a_fixed_number_of_queries(
    client, world, school_reviewer, django_assert_max_num_queries
):
    client.force_login(school_reviewer)
    for total in (3, 12):
        while Student.objects.count() < total:
            f.make_student(f.make_record(world.major_a1, name=f"同名{Student.objects.count()}"))
        with django_assert_max_num_queries(10):  # the same for 3 and for 12 rows
            page = client.get(LOOKUP, {"q": "同名"}).content.decode()
        assert page.count("reviews/records/") >= total


# --- the record page ---------------------------------------------------------------------------


def test_the_record_page_masks_the_id_number_and_contacts(client, bound, record, school_reviewer):
    client.force_login(school_reviewer)
    page = client.get(page_url(record)).content.decode()
    assert "110101********0012" in page and ID_NUMBER not in page
    assert "138****5678" in page and "13812345678" not in page
    assert "p*****@school.example.edu.cn" in page and "pengye@" not in page
    assert bound.user.username in page
    assert timezone.localtime(bound.confirmed_at).strftime("%Y-%m-%d %H:%M") in page


@pytest.mark.parametrize("stranger", ["other_college_reviewer", "other_school_reviewer"])
def test_a_stranger_gets_404(client, request, record, stranger):
    client.force_login(request.getfixturevalue(stranger))
    assert client.get(page_url(record)).status_code == 404
    assert client.post(issue_url(record)).status_code == 404
    assert client.post(unbind_url(record), {"reason": "x"}).status_code == 404


# --- activation codes --------------------------------------------------------------------------


def test_the_college_issues_an_activation_code_shown_once(client, no_contact, college_reviewer):
    record = no_contact
    client.force_login(college_reviewer)
    response = client.post(issue_url(record), follow=True)
    assert response.redirect_chain == [(page_url(record), 302)]
    code = response.context["new_code"]
    assert code in response.content.decode()
    assert response["Cache-Control"] == "no-store"
    row = RegistryCode.objects.get(kind="activation")
    assert code not in row.code_hash and row.created_by == college_reviewer
    assert code not in client.get(page_url(record)).content.decode()  # never again
    event = AuditEvent.objects.for_object(record).get(action="issue_activation_code")
    assert event.actor == college_reviewer and code not in str(event.changes)


def test_a_new_activation_code_voids_the_old_one(client, no_contact, college_reviewer):
    record = no_contact
    client.force_login(college_reviewer)
    old = client.post(issue_url(record), follow=True).context["new_code"]
    new = client.post(issue_url(record), follow=True).context["new_code"]
    graduate = f.make_student(real_name="彭也", id_number=ID_NUMBER, confirmed=False)
    with pytest.raises(ValidationError):
        binding.registry_confirm(student=graduate, code=old)
    binding.registry_confirm(student=graduate, code=new)
    graduate.refresh_from_db()
    assert graduate.record == record and graduate.confirmed_via == "activation"
    # Used once: another account cannot use it again.
    again = f.make_student(real_name="彭也", id_number=ID_NUMBER, confirmed=False)
    with pytest.raises(ValidationError):
        binding.registry_confirm(student=again, code=new)


@pytest.mark.parametrize(
    "contacts", [{"mobile": "13812345678"}, {"email": "pengye@school.example.edu.cn"}]
)
def test_no_activation_code_for_a_record_with_a_phone_or_e_mail(
    client, world, college_reviewer, contacts
):
    record = f.make_record(world.major_a1, **contacts)
    client.force_login(college_reviewer)
    page = client.get(page_url(record)).content.decode()
    assert issue_url(record) not in page
    assert "registered" in page or "登记的手机" in page
    assert client.post(issue_url(record)).status_code == 403
    with pytest.raises(PermissionDenied):
        binding.activation_code_issue(record=record, reviewer=college_reviewer)
    assert not RegistryCode.objects.exists()


def test_an_activation_code_issued_before_the_record_had_a_contact_no_longer_binds(
    no_contact, college_reviewer
):
    code = binding.activation_code_issue(record=no_contact, reviewer=college_reviewer)
    no_contact.mobile = "13812345678"
    no_contact.save(update_fields=["mobile"])
    outsider = f.make_student(real_name="彭也", id_number=ID_NUMBER, confirmed=False)
    with pytest.raises(ValidationError):
        binding.registry_confirm(student=outsider, code=code)
    outsider.refresh_from_db()
    assert not outsider.is_confirmed


def test_the_graduate_enters_the_activation_code_at_the_first_login_check(
    client, world, college_reviewer
):
    record = f.make_record(world.major_a1, name="无联系")  # the school has no contact
    graduate = f.make_student(record, confirmed=False)
    code = binding.activation_code_issue(record=record, reviewer=college_reviewer)
    client.force_login(graduate.user)
    client.post(reverse("students:confirm"), {"code": code})
    graduate.refresh_from_db()
    assert graduate.is_confirmed


def test_the_school_issues_an_activation_code_when_the_sent_code_cannot_reach_the_graduate(
    client, record, school_reviewer, other_school_reviewer, college_reviewer
):
    """A record with a phone: its college may not issue a code (a password alone), the school,
    whose staff pass a second factor, may; the graduate confirms with it and the record's
    phone is told."""
    from destreg.lib import sms

    client.force_login(other_school_reviewer)
    assert client.post(issue_url(record)).status_code == 404
    client.force_login(school_reviewer)
    response = client.post(issue_url(record), follow=True)
    code = re.search(r"[A-Z0-9]{4}-[A-Z0-9]{4}-[A-Z0-9]{4}", response.content.decode()).group()
    graduate = f.make_student(real_name="彭也", id_number=ID_NUMBER, confirmed=False)
    with TestCase.captureOnCommitCallbacks(execute=True):
        binding.registry_confirm(student=graduate, code=code)
    graduate.refresh_from_db()
    assert graduate.is_confirmed and graduate.record_id == record.pk
    assert graduate.confirmed_via == "activation"
    assert any(m.to == record.mobile for m in sms.outbox)  # the record's phone is told


def test_a_code_stops_counting_when_its_issuer_may_no_longer_issue_it(
    no_contact, college_reviewer, school_reviewer
):
    college_code = binding.activation_code_issue(record=no_contact, reviewer=college_reviewer)
    no_contact.email = "pengye@school.example.edu.cn"  # the school registers a contact
    no_contact.save(update_fields=["email"])
    outsider = f.make_student(real_name="彭也", id_number=ID_NUMBER, confirmed=False)
    with pytest.raises(ValidationError):
        binding.registry_confirm(student=outsider, code=college_code)
    school_code = binding.activation_code_issue(record=no_contact, reviewer=school_reviewer)
    binding.registry_confirm(student=outsider, code=school_code)
    outsider.refresh_from_db()
    assert outsider.is_confirmed


def test_no_activation_code_for_a_bound_record(client, bound, record, college_reviewer):
    client.force_login(college_reviewer)
    assert client.post(issue_url(record)).status_code == 403
    assert issue_url(record) not in client.get(page_url(record)).content.decode()


# --- unlinking ---------------------------------------------------------------------------------


def test_the_school_unlinks_an_account_with_a_reason(
    client, bound, record, school_reviewer, django_capture_on_commit_callbacks
):
    client.force_login(school_reviewer)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(unbind_url(record), {"reason": "冒用身份证号注册"})
    assert response.status_code == 302
    bound.refresh_from_db()
    assert (bound.record, bound.confirmed_at, bound.confirmed_via) == (None, None, "")
    event = AuditEvent.objects.for_object(record).get(action="unbind")
    assert event.actor == school_reviewer and event.comment == "冒用身份证号注册"
    assert event.changes["username"] == bound.user.username
    assert AuditEvent.objects.for_object(bound).filter(action="unbind").exists()
    recipients = sorted(address for message in mail.outbox for address in message.to)
    assert recipients == sorted([bound.user.email, "pengye@school.example.edu.cn"])
    assert all("冒用身份证号注册" in message.body for message in mail.outbox)


def test_after_unlinking_the_real_graduate_confirms_with_a_code(
    client, bound, record, school_reviewer
):
    binding.registry_unbind(record=record, reviewer=school_reviewer, reason="冒用")
    real = f.make_student(real_name="彭也", id_number=ID_NUMBER, confirmed=False)
    client.force_login(real.user)
    client.post(reverse("students:confirm"), {"code": f.send_code(client)})
    real.refresh_from_db()
    assert real.record == record and real.confirmed_via == "code"


def test_unlinking_needs_a_reason(client, bound, record, school_reviewer):
    client.force_login(school_reviewer)
    response = client.post(unbind_url(record), {"reason": "  "})
    assert response.status_code == 400
    bound.refresh_from_db()
    assert bound.is_confirmed
    assert not AuditEvent.objects.filter(action="unbind").exists()


def test_a_college_reviewer_cannot_unlink(client, bound, record, college_reviewer):
    client.force_login(college_reviewer)
    assert client.post(unbind_url(record), {"reason": "x"}).status_code == 403
    bound.refresh_from_db()
    assert bound.is_confirmed


def test_the_platform_admin_can_unlink(bound, record, platform_admin):
    binding.registry_unbind(record=record, reviewer=platform_admin, reason="平台核实")
    bound.refresh_from_db()
    assert not bound.is_confirmed


@pytest.mark.parametrize("approved", [False, True])
def test_unlinking_is_refused_while_the_account_holds_a_destination(
    client, bound, record, school_reviewer, approved
):
    DestinationClaim.objects.create(student=bound, path="paper", object_id=1, approved=approved)
    client.force_login(school_reviewer)
    response = client.post(unbind_url(record), {"reason": "冒用"})
    assert response.status_code == 400
    assert "纸质三方" in response.content.decode() or "Paper" in response.content.decode()
    bound.refresh_from_db()
    assert bound.is_confirmed


def test_unlinking_closes_the_account_s_open_correction_request(bound, record, school_reviewer):
    request = services.registry_request_submit(
        student=bound, kind="update", school=record.school, data={"ethnicity": "03"}
    )
    binding.registry_unbind(record=record, reviewer=school_reviewer, reason="冒用")
    request.refresh_from_db()
    assert request.status == "rejected"
