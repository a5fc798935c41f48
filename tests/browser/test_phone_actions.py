"""On a phone what the viewer can do sits at the top of an item's page, above the long
agreement: the reviewer's decision on an agreement and a registration."""

import pytest

from agreements.registrations import services as registrations
from tests.browser.conftest import PHONE, login
from tests.browser.test_home import _in_first_screen

pytestmark = pytest.mark.browser


def test_the_decision_is_on_the_first_screen_of_a_phone(
    new_page, live_server, agreement, platform_admin, student, shoot
):
    page = new_page()
    page.set_viewport_size(PHONE)
    login(page, live_server, platform_admin.username)
    page.goto(f"{live_server.url}/reviews/agreements/{agreement.pk}/")
    assert _in_first_screen(page, "button.btn-success[name=decision][value=approve]")
    shoot(page, "agreement-review", phone=True)


def test_the_students_actions_are_on_the_first_screen_of_a_phone(
    new_page, live_server, student, shoot
):
    item = registrations.registration_save_draft(
        student=student, path="offline", values={"unit_name": "北京测试科技有限公司"}
    )
    page = new_page()
    page.set_viewport_size(PHONE)
    login(page, live_server, student.user.username)
    page.goto(f"{live_server.url}/agreements/registrations/{item.pk}/")
    assert _in_first_screen(page, f"a[href$='/registrations/{item.pk}/edit/']")
    shoot(page, "registration-draft", phone=True)
