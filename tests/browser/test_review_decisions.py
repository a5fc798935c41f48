"""An admin with an agreement open in two tabs approves it in both: the second click
is refused, the agreement waits for the school, and the admin cannot decide that stage."""

import pytest

from tests.browser.conftest import login

pytestmark = pytest.mark.browser


def test_a_second_approval_from_a_stale_tab_is_refused(
    new_page, live_server, agreement, platform_admin, shoot
):
    first, second = new_page(), new_page()
    url = f"{live_server.url}/reviews/agreements/{agreement.pk}/"
    for tab in (first, second):
        login(tab, live_server, platform_admin.username)
        tab.goto(url)
    with first.expect_navigation():
        first.locator("button[name=decision][value=approve]").first.click()
    with second.expect_navigation():
        second.locator("button[name=decision][value=approve]").first.click()

    assert second.url == url
    assert "该事项已被处理，请刷新后重试" in second.locator("main").inner_text()
    assert "学校审核须由其他审核人完成" in second.locator("#review-refusal").inner_text()
    assert second.locator("button[name=decision]").count() == 0
    shoot(second, "refused", phone=True)
    agreement.refresh_from_db()
    assert (agreement.status, agreement.number) == ("school_review", None)
