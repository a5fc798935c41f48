"""A unit administrator connects the HR system: makes an API key on the portal, copies it
from the one page that shows it, the HR system calls the API with it, and the administrator
revokes it when the system is retired."""

import pytest
import requests

from employers.models import ApiCall, ApiToken
from tests.browser.conftest import login

pytestmark = pytest.mark.browser


def test_an_administrator_makes_uses_and_revokes_a_key(page, live_server, employer_user, shoot):
    login(page, live_server, employer_user.username)
    page.goto(f"{live_server.url}/employers/api-tokens/")
    form = page.locator("main form[method=post]").last
    form.locator("input[name=name]").fill("人事系统（正式环境）")
    form.locator("select[name=scope]").select_option("write")
    with page.expect_navigation():
        form.locator("button[type=submit]").click()
    key = page.locator("#new-key-value").inner_text().strip()
    assert key.startswith("dra_")
    shoot(page, "created", phone=True)

    answer = requests.get(
        f"{live_server.url}/api/v1/invitations/",
        headers={"Authorization": f"Bearer {key}"},
        timeout=30,
    )
    assert answer.status_code == 200

    page.goto(f"{live_server.url}/employers/api-tokens/")
    assert page.locator("#new-key-value").count() == 0  # shown once
    row = page.locator("#api-tokens tbody tr", has_text="人事系统（正式环境）")
    assert "使用中" in row.inner_text()
    with page.expect_navigation():
        row.locator("button", has_text="撤销").click()
    assert "已撤销" in page.locator("#api-tokens").inner_text()
    shoot(page, "revoked", phone=True)
    answer = requests.get(
        f"{live_server.url}/api/v1/invitations/",
        headers={"Authorization": f"Bearer {key}"},
        timeout=30,
    )
    assert answer.status_code == 401
    assert ApiToken.objects.get().revoked_by == employer_user
    assert list(ApiCall.objects.values_list("status", flat=True).order_by("id")) == [200, 401]

    page.goto(f"{live_server.url}/api/docs/")
    assert "/api/v1/invitations/batch/" in page.locator("main").inner_text()
    shoot(page, "docs", phone=True)
