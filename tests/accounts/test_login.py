import logging

import pytest
from django.test import override_settings
from django.urls import reverse

from destreg.accounts.models import Role
from destreg.lib.pii import PiiLogFilter, mask_id_number
from tests import factories as f

LOGIN = reverse("login")


@pytest.mark.parametrize(
    ("role", "home"),
    [
        (Role.STUDENT, "/students/"),
        (Role.EMPLOYER, "/employers/"),
        (Role.SCHOOL_REVIEWER, "/reviews/"),
        (Role.PLATFORM_ADMIN, "/admin/"),
    ],
)
def test_each_role_lands_on_its_home(client, request, role, home):
    user = {
        Role.STUDENT: "student",
        Role.EMPLOYER: "employer_user",
        Role.SCHOOL_REVIEWER: "school_reviewer",
        Role.PLATFORM_ADMIN: "platform_admin",
    }[role]
    user = request.getfixturevalue(user)
    client.force_login(getattr(user, "user", user))
    assert client.get("/").url == home


def test_login_and_logout(client, student):
    response = client.post(LOGIN, {"username": student.user.username, "password": "pw-Secret-123"})
    assert response.status_code == 302
    assert client.get(reverse("students:home")).status_code == 200
    assert client.post(reverse("logout")).status_code == 302
    assert client.get(reverse("students:home")).status_code == 302


def test_login_is_throttled_after_repeated_failures(client, student):
    for _ in range(5):
        client.post(LOGIN, {"username": student.user.username, "password": "wrong"})
    response = client.post(LOGIN, {"username": student.user.username, "password": "pw-Secret-123"})
    assert response.status_code == 429
    assert client.get(reverse("students:home")).status_code == 302


def test_password_change(client, student):
    client.force_login(student.user)
    response = client.post(
        reverse("password_change"),
        {"old_password": "pw-Secret-123", "new_password1": "N3w-pass-2026!",
         "new_password2": "N3w-pass-2026!"},
    )  # fmt: skip
    assert response.status_code == 302
    student.user.refresh_from_db()
    assert student.user.check_password("N3w-pass-2026!")


def test_id_numbers_are_masked_in_logs(caplog):
    logger = logging.getLogger("destreg.test")
    logger.addFilter(PiiLogFilter())
    with caplog.at_level(logging.INFO, logger="destreg.test"):
        logger.info("looking up %s", "110101200301010012")
    assert "110101200301010012" not in caplog.text
    assert mask_id_number("110101200301010012") in caplog.text


@override_settings(DEBUG=True)
def test_id_numbers_never_show_on_error_pages(rf, reference_data):
    from django.views.debug import technical_500_response

    request = rf.post("/students/signup/", {"id_number": "110101200301010012"})
    id_number = "110101200301010012"  # noqa: F841 (a local the traceback would show)
    try:
        raise ValueError("boom for 110101200301010012")
    except ValueError as error:
        import sys

        response = technical_500_response(request, *sys.exc_info(), status_code=500)
        assert error
    assert "110101200301010012" not in response.content.decode()


def test_demo_seed_is_idempotent_and_uses_valid_id_numbers(reference_data):
    from stdnum.cn import ric

    from destreg.demo.data import seed
    from students.models import RegistryRecord, Student

    seed()
    seed()
    assert RegistryRecord.objects.count() == 60
    # The three demo students, and the ten graduates behind the 核查 page's anomalies.
    assert Student.objects.count() == 13
    assert all(ric.is_valid(r.id_number) for r in RegistryRecord.objects.all())
    assert f  # factories import used by fixtures


def test_chinese_is_the_default_even_for_an_english_browser(client, reference_data):
    page = client.get(LOGIN, HTTP_ACCEPT_LANGUAGE="en-US,en;q=0.9").content.decode()
    assert "登录" in page


def test_the_language_switch_selects_english(client, reference_data):
    client.post(reverse("set_language"), {"language": "en", "next": LOGIN})
    assert "Sign in" in client.get(LOGIN).content.decode()


def test_password_reset_by_email_with_a_one_time_link(client, student, mailoutbox):
    client.post(reverse("password_reset"), {"email": student.user.email})
    lines = mailoutbox[0].body.splitlines()
    assert lines[0] == f"有人申请重置账号 {student.user} 的密码。"  # each sentence on its line
    link = next(line for line in lines if "/password/reset/" in line)
    path = link.split("testserver", 1)[1]
    form = client.get(path, follow=True)
    set_url = form.redirect_chain[-1][0]
    client.post(set_url, {"new_password1": "Fr3sh-pass-2026!", "new_password2": "Fr3sh-pass-2026!"})
    student.user.refresh_from_db()
    assert student.user.check_password("Fr3sh-pass-2026!")
    assert client.get(path, follow=True).context["validlink"] is False  # used once
