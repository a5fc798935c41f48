import pytest
from django.urls import reverse

from destreg.audit.models import AuditEvent
from students.models import current_graduation_year
from tests import factories as f

HOME = reverse("students:home")
CONFIRM = reverse("students:confirm")
SEND = reverse("students:send_code")


@pytest.fixture
def unconfirmed(world):
    record = f.make_record(
        world.major_a1,
        name="彭也",
        id_number="110101200301010012",
        mobile="13812345678",
        email="pengye@example.com",
    )
    return f.make_student(record, confirmed=False)


def test_home_shows_the_record_to_confirm(client, unconfirmed):
    client.force_login(unconfirmed.user)
    page = client.get(HOME).content.decode()
    assert "彭也" in page
    assert "110101200301010012" in page  # the owner sees their full number
    assert "甲大学" in page
    assert "本科生毕业" in page
    assert CONFIRM in page
    assert "138****5678" in page  # the record's contacts, masked
    assert "p*****@example.com" in page
    assert "13812345678" not in page


def test_confirming_with_the_sent_code_links_the_record_and_audits_it(
    client, unconfirmed, sms_outbox
):
    client.force_login(unconfirmed.user)
    code = f.send_code(client)
    response = client.post(CONFIRM, {"code": code})
    assert response.status_code == 302
    unconfirmed.refresh_from_db()
    assert unconfirmed.is_confirmed
    assert unconfirmed.confirmed_via == "code"
    assert unconfirmed.record.name == "彭也"
    event = AuditEvent.objects.for_object(unconfirmed).get(action="confirm_registry")
    assert event.changes == {"record": unconfirmed.record_id, "via": "code"}


def test_confirming_without_a_code_links_nothing(client, unconfirmed):
    client.force_login(unconfirmed.user)
    client.post(CONFIRM)
    client.post(CONFIRM, {"code": "123456"})
    unconfirmed.refresh_from_db()
    assert not unconfirmed.is_confirmed


def test_confirm_needs_post(client, unconfirmed):
    client.force_login(unconfirmed.user)
    assert client.get(CONFIRM).status_code == 405


def test_no_record_offers_an_import_request(client, world):
    student = f.make_student(real_name="无记录", confirmed=False)
    client.force_login(student.user)
    page = client.get(HOME).content.decode()
    assert reverse("students:import_request") in page
    client.post(SEND, {"channel": "sms"})
    client.post(CONFIRM, {"code": "123456"})
    student.refresh_from_db()
    assert not student.is_confirmed


def test_a_record_of_another_year_does_not_match(client, world):
    record = f.make_record(world.major_a1, graduation_year=current_graduation_year() - 1)
    student = f.make_student(record, confirmed=False)
    client.force_login(student.user)
    client.post(SEND, {"channel": "sms"})
    client.post(CONFIRM, {"code": "123456"})
    student.refresh_from_db()
    assert not student.is_confirmed


def test_a_name_that_differs_from_the_registry_does_not_match(client, world):
    record = f.make_record(world.major_a1, name="彭也")
    student = f.make_student(record, confirmed=False, real_name="彭野")
    client.force_login(student.user)
    client.post(SEND, {"channel": "sms"})
    client.post(CONFIRM, {"code": "123456"})
    student.refresh_from_db()
    assert not student.is_confirmed


@pytest.mark.parametrize("url_name", ["home", "account", "update_request", "import_request"])
def test_student_pages_refuse_other_roles_and_anonymous(client, school_reviewer, url_name):
    url = reverse(f"students:{url_name}")
    assert client.get(url).status_code == 302  # anonymous → login
    client.force_login(school_reviewer)
    assert client.get(url).status_code == 403


def test_contact_details_change_with_validation(client, student):
    client.force_login(student.user)
    url = reverse("students:account")
    bad = client.post(url, {"mobile": "999", "email": "not-an-email"})
    assert bad.status_code == 200
    assert 'value="999"' in bad.content.decode()
    good = client.post(url, {"mobile": "13911112222", "email": "new@example.com"})
    assert good.status_code == 302
    student.refresh_from_db()
    student.user.refresh_from_db()
    assert (student.mobile, student.user.email) == ("13911112222", "new@example.com")
