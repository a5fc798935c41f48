"""A graduate signs in through their school's 统一身份认证 (a real OIDC provider in its own
process) and lands on their home page, registry confirmed, without typing any code."""

import pytest

from students.models import Student
from tests import factories as f
from tests.oidc_provider import serve
from tests.oidc_provider.fixtures import make_sign_on


@pytest.mark.browser
def test_graduate_signs_in_with_the_school_account(
    page,
    new_page,
    live_server,
    world,
    oidc_provider,
    shoot,
):
    record = f.make_record(world.major_a1, student_no="2021001", name="赵一")
    make_sign_on(world.school_a, oidc_provider)

    page.goto(f"{live_server.url}/login/")
    link = page.get_by_role("link", name="统一身份认证登录")
    assert world.school_a.name in link.inner_text()
    shoot(page, "login-one-school", phone=True)

    # With a second school, the login page offers a picker instead.
    make_sign_on(world.school_b, oidc_provider)
    page.reload()
    picker = page.locator("details.sso-picker")
    picker.locator("summary").click()
    shoot(page, "login-school-picker", phone=True)
    with page.expect_navigation():
        picker.get_by_role("link", name=world.school_a.name).click()

    # The school's provider asks for the 学号 and its password.
    assert page.url.startswith(oidc_provider.url)
    page.locator("#id_username").fill("2021001")
    page.locator("#id_password").fill(serve.PASSWORD)
    page.locator("#provider-login button[type=submit]").click()
    page.wait_for_url(f"{live_server.url}/students/")

    assert "赵一" in page.locator("main").inner_text()
    student = Student.objects.get(record=record)
    assert student.is_confirmed
    shoot(page, "home-after-sso")

    # Someone the registry does not know: a clear error page, nobody signed in.
    stranger = new_page()
    stranger.goto(f"{live_server.url}/login/")
    stranger.locator("details.sso-picker summary").click()
    stranger.get_by_role("link", name=world.school_a.name).click()
    stranger.locator("#id_username").fill("2099999")
    stranger.locator("#id_password").fill(serve.PASSWORD)
    stranger.locator("#provider-login button[type=submit]").click()
    stranger.wait_for_url(f"{live_server.url}/sso/callback/*")
    assert "学号 2099999" in stranger.locator("main").inner_text()
    shoot(stranger, "no-record", phone=True)
    stranger.goto(f"{live_server.url}/students/")
    assert "/login/" in stranger.url
