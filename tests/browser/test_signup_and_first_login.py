"""A graduate creates an account, confirms their registry, signs out and back in."""

import pytest

from destreg.lib import sms
from students.models import Student
from tests import factories as f
from tests.browser.conftest import login, logout

ID_NUMBER = "110101200301010012"
BAD_ID_NUMBER = "110101199801010001"  # the seed's sample: wrong check digit
PASSWORD = "Gr4duate-2026!"


def fill_signup(form, *, id_number: str) -> None:
    form.locator("input[name=username]").fill("pengye")
    form.locator("input[name=real_name]").fill("彭也")
    form.locator("input[name=id_number]").fill(id_number)
    form.locator("input[name=mobile]").fill("13812345678")
    form.locator("input[name=email]").fill("pengye@example.com")
    form.locator("input[name=password1]").fill(PASSWORD)
    form.locator("input[name=password2]").fill(PASSWORD)


@pytest.mark.browser
def test_signup_confirm_and_sign_in_again(page, live_server, world, shoot):
    record = f.make_record(
        world.major_a1, name="彭也", id_number=ID_NUMBER, mobile="13812345678", email=""
    )

    # Anonymous visitor opens the signup page.
    response = page.goto(f"{live_server.url}/students/signup/")
    assert response.status == 200
    form = page.locator("main form[method=post]")
    shoot(page, "signup")

    # The seed's invalid ID number is refused, with the typed name kept.
    fill_signup(form, id_number=BAD_ID_NUMBER)
    with page.expect_navigation():
        form.locator("button[type=submit]").click()
    assert page.url.endswith("/students/signup/")
    id_input = form.locator("input[name=id_number]")
    assert "is-invalid" in (id_input.get_attribute("class") or "")
    error = form.locator("#error_1_id_id_number, .invalid-feedback").first
    assert error.is_visible()
    assert error.inner_text().strip()
    assert form.locator("input[name=real_name]").input_value() == "彭也"
    assert id_input.input_value() == BAD_ID_NUMBER
    assert not Student.objects.exists()
    shoot(page, "signup-invalid-id")

    # Correct the ID; passwords are not echoed back, so type them again.
    fill_signup(form, id_number=ID_NUMBER)
    with page.expect_navigation():
        form.locator("button[type=submit]").click()
    assert page.url.endswith("/students/")

    # The home page shows the record to confirm and where the code can go, masked.
    main = page.locator("main")
    confirm_form = page.locator('form[action$="/students/confirm/"]')
    send_form = page.locator('form[action$="/students/confirm/send-code/"]')
    assert confirm_form.is_visible() and send_form.is_visible()
    assert "彭也" in main.inner_text()
    assert "甲大学" in main.inner_text()
    assert "138****5678" in send_form.inner_text()
    student = Student.objects.get(user__username="pengye")
    assert student.confirmed_at is None
    shoot(page, "home-unconfirmed", phone=True)

    # A wrong code is refused and says so.
    confirm_form.locator("input[name=code]").fill("000000")
    with page.expect_navigation():
        confirm_form.locator("button[type=submit]").click()
    assert page.locator(".alert-danger, .alert-error").first.is_visible()
    student.refresh_from_db()
    assert student.confirmed_at is None

    # Send the code to the registry's phone; it arrives as a text message.
    with page.expect_navigation():
        send_form.locator("button[type=submit]").click()
    assert [message.to for message in sms.outbox] == ["13812345678"]
    code = f.last_code("sms")
    shoot(page, "home-code-sent", phone=True)

    # Confirm with it: the registry details replace the confirmation card.
    confirm_form.locator("input[name=code]").fill(code)
    with page.expect_navigation():
        confirm_form.locator("button[type=submit]").click()
    assert page.url.endswith("/students/")
    assert page.locator('form[action$="/students/confirm/"]').count() == 0
    details = main.locator("dl.dl-registry")
    assert details.is_visible()
    text = details.inner_text()
    for value in (record.student_no, "彭也", ID_NUMBER, "甲大学", "甲一学院", world.major_a1.name):
        assert value in text
    assert main.locator('a[href$="/students/requests/update/"]').is_visible()
    student.refresh_from_db()
    assert student.confirmed_at is not None
    assert student.record_id == record.pk
    assert student.confirmed_via == "code"
    shoot(page, "home-confirmed", phone=True)

    # Sign out, then sign in again through the login form.
    logout(page)
    assert "/login/" in page.url
    assert page.locator('form[action$="/logout/"]').count() == 0
    page.goto(f"{live_server.url}/students/")
    assert page.url.startswith(f"{live_server.url}/login/")
    shoot(page, "login")

    login(page, live_server, "pengye", PASSWORD)
    assert page.url.endswith("/students/")
    assert page.locator('form[action$="/students/confirm/"]').count() == 0
    details = page.locator("main dl.dl-registry")
    assert record.student_no in details.inner_text()
    assert "彭也" in details.inner_text()
    shoot(page, "home-after-sign-in")
