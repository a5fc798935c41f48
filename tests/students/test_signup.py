import pytest
from django.urls import reverse

from destreg.lib.pii import id_number_digest
from students.models import Student

URL = reverse("students:signup")


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


def test_one_account_per_id_number(client, reference_data):
    client.post(URL, _form())
    client.logout()
    response = client.post(URL, _form(username="someone-else", id_number="110101200301010012"))
    assert response.status_code == 200
    assert response.context["form"].errors["id_number"]
    assert Student.objects.count() == 1


def test_it_validates_mobile_and_password(client, reference_data):
    response = client.post(URL, _form(mobile="12345", password2="different"))
    errors = response.context["form"].errors
    assert "mobile" in errors and "password2" in errors
    assert not Student.objects.exists()


def test_messages_are_in_chinese_by_default(client, reference_data):
    response = client.post(URL, _form(id_number="110101199801010001"))
    assert "身份证号校验位不正确" in response.content.decode()
