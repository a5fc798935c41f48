import pytest
from django.urls import reverse

from destreg.lib.pii import id_number_digest
from students.models import Student
from tests import factories as f

URL = reverse("students:signup")
ID_NUMBER = "110101200301010012"


def _form(**overrides):
    data = {
        "username": "pengye",
        "real_name": "彭也",
        "id_number": "110101200301010012",
        "mobile": "13812345678",
        "email": "pengye@example.com",
        "password1": "Gr4duate-2026!",
        "password2": "Gr4duate-2026!",
    }
    return data | overrides


def test_it_creates_the_account_and_signs_in(client, reference_data):
    response = client.post(URL, _form())
    assert response.status_code == 302
    assert response.url == reverse("students:home")
    student = Student.objects.get(user__username="pengye")
    assert student.real_name == "彭也"
    assert student.id_number == "110101200301010012"
    assert student.user.check_password("Gr4duate-2026!")
    assert client.get(reverse("students:home")).status_code == 200


def test_the_id_number_is_encrypted_at_rest(client, reference_data):
    client.post(URL, _form())
    row = Student.objects.values("id_number_cipher", "id_number_digest").get()
    assert "110101200301010012" not in row["id_number_cipher"]
    assert row["id_number_digest"] == id_number_digest("110101200301010012")


def test_it_refuses_the_seed_sample_with_a_wrong_check_digit(client, reference_data):
    response = client.post(URL, _form(id_number="110101199801010001"))
    assert response.status_code == 200
    assert "check digit" in response.content.decode() or "校验" in response.content.decode()
    assert not Student.objects.exists()
    # What was typed is kept.
    assert 'value="彭也"' in response.content.decode()


@pytest.mark.parametrize("bad", ["1101012003010100", "11010120031301001X", "abc"])
def test_it_refuses_malformed_id_numbers(client, reference_data, bad):
    response = client.post(URL, _form(id_number=bad))
    assert response.status_code == 200
    assert response.context["form"].errors["id_number"]
    assert not Student.objects.exists()


def test_an_unconfirmed_account_reserves_no_id_number(client, reference_data):
    client.post(URL, _form())
    client.logout()
    response = client.post(URL, _form(username="someone-else", email="else@example.com"))
    assert response.status_code == 302
    assert Student.objects.filter(id_number_digest=id_number_digest(ID_NUMBER)).count() == 2


def test_signup_answers_the_same_for_a_used_and_an_unused_id_number(
    client, world, django_capture_on_commit_callbacks, mailoutbox
):
    owner = f.make_student(f.make_record(world.major_a1, name="彭也", id_number=ID_NUMBER))
    unused = f.new_id_number()

    def sign_up(username: str, id_number: str):
        client.logout()
        with django_capture_on_commit_callbacks(execute=True):
            response = client.post(
                URL, _form(username=username, email=f"{username}@example.com", id_number=id_number)
            )
        page = client.get(response.url)
        return response.status_code, response.url, _messages(page)

    assert sign_up("used", ID_NUMBER) == sign_up("unused", unused)
    # The owner of the used number is told; nobody is told about the unused one.
    assert [message.to for message in mailoutbox] == [[owner.user.email]]
    body = mailoutbox[0].body
    assert owner.user.username in body
    assert "reset" in body.lower() or "重置" in body
    owner.refresh_from_db()
    assert owner.is_confirmed  # and keeps their record


def _messages(page) -> list[str]:
    return [str(message) for message in page.context["messages"]]


def test_it_validates_mobile_and_password(client, reference_data):
    response = client.post(URL, _form(mobile="12345", password2="different"))
    errors = response.context["form"].errors
    assert "mobile" in errors and "password2" in errors
    assert not Student.objects.exists()


def test_messages_are_in_chinese_by_default(client, reference_data):
    response = client.post(URL, _form(id_number="110101199801010001"))
    assert "身份证号校验位不正确" in response.content.decode()


def test_sign_ups_are_limited_per_client_address(client, reference_data, settings):
    settings.SIGNUPS_PER_CLIENT_PER_HOUR = 3
    for n in range(3):
        client.logout()
        response = client.post(URL, _form(username=f"u{n}", email=f"u{n}@example.com"))
        assert response.status_code == 302
    client.logout()
    response = client.post(URL, _form(username="one-more", email="more@example.com"))
    assert response.status_code == 200
    page = response.content.decode()
    assert "注册的账号过多" in page or "Too many accounts" in page
    assert 'value="one-more"' in page and 'value="彭也"' in page  # what was typed is kept
    assert not Student.objects.filter(user__username="one-more").exists()
    # Another address is not held up.
    response = client.post(
        URL, _form(username="elsewhere", email="e@example.com"), REMOTE_ADDR="10.2.3.4"
    )
    assert response.status_code == 302


def test_the_owner_is_warned_at_most_once_a_day(
    client, world, django_capture_on_commit_callbacks, mailoutbox
):
    from django.core.cache import cache

    owner = f.make_student(f.make_record(world.major_a1, name="彭也", id_number=ID_NUMBER))
    for n in range(3):
        client.logout()
        with django_capture_on_commit_callbacks(execute=True):
            client.post(URL, _form(username=f"try{n}", email=f"try{n}@example.com"))
    assert Student.objects.filter(id_number_digest=owner.id_number_digest).count() == 4
    assert [message.to for message in mailoutbox] == [[owner.user.email]]
    cache.delete(f"students:signup-warning:{owner.pk}")  # a day later
    client.logout()
    with django_capture_on_commit_callbacks(execute=True):
        client.post(URL, _form(username="next-day", email="next@example.com"))
    assert len(mailoutbox) == 2
