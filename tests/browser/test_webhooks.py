"""A unit's administrator connects the HR system: adds an endpoint, copies the secret shown
once, sends a test event to a real receiver and reads the delivery log."""

import pytest

from tests.agreements.webhook_receiver import receiver
from tests.browser.conftest import login

pytestmark = pytest.mark.browser


def test_an_admin_connects_the_hr_system(page, live_server, settings, employer_user, shoot):
    settings.WEBHOOK_ALLOW_HTTP_LOCALHOST = True
    with receiver(answers=[500]) as hr:
        login(page, live_server, employer_user.username)
        page.goto(f"{live_server.url}/agreements/webhooks/new/")
        form = page.locator("main form[method=post]")
        form.locator("input[name=url]").fill(hr.url)
        form.locator("input[value='agreement.signed']").check()
        form.locator("input[value='invitation.accepted']").check()
        with page.expect_navigation():
            form.locator("button[type=submit]").click()
        hr.secret = page.locator("#secret code").inner_text().strip()
        assert hr.secret.startswith("whsec_")
        shoot(page, "secret", phone=True)

        for _ in range(2):  # the first answer is a 500, then resent from the log
            with page.expect_navigation():
                page.get_by_role("button", name="发送测试事件").click()
        with page.expect_navigation():
            page.locator("#deliveries button", has_text="重新发送").last.click()
        log = page.locator("#deliveries").inner_text()
        assert "500" in log and "200" in log and "已送达" in log
        assert "#secret" not in page.content() and hr.secret not in page.content()
        shoot(page, "log", phone=True)

        page.goto(f"{live_server.url}/agreements/webhooks/")
        assert hr.url in page.locator("#endpoints").inner_text()
        shoot(page, "list", phone=True)
    assert hr.requests and all(r.signature_ok for r in hr.requests)
