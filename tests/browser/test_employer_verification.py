"""A unit registers with its documents; a school's reviewer opens them and verifies it for
that school; the unit's portal then says whose graduates it may invite."""

import pytest

from destreg.reference.models import Code
from employers.models import Employer
from tests import factories as f
from tests.browser.conftest import login, logout

PASSWORD = "Empl0yer-2026!"


@pytest.mark.browser
def test_a_unit_registers_with_documents_and_a_school_verifies_it(
    page, live_server, world, school_reviewer, shoot
):
    page.goto(f"{live_server.url}/employers/register/")
    form = page.locator("main form[method=post]")
    for name, value in {
        "username": "hr-beijing", "password1": PASSWORD, "password2": PASSWORD,
        "name": "北京测试科技有限公司", "uscc": "91110000100000000R", "address": "中关村大街1号",
        "contact_name": "刘经理", "contact_mobile": "13900001111",
        "contact_email": "hr@example.com",
    }.items():  # fmt: skip
        form.locator(f"[name={name}]").fill(value)
    nature = Code.objects.get(table="unit_nature", code="39").pk
    industry = Code.objects.get(table="industry", code="I").pk
    form.locator("select[name=nature]").select_option(str(nature))
    form.locator("select[name=industry]").select_option(str(industry))
    for level, code in [("province", "110000"), ("city", "110100"), ("county", "110108")]:
        form.locator(f"#id_region_{level}").select_option(code)  # the region picker
    form.locator("input[name=business_licence]").set_input_files(
        {"name": "执照.png", "mimeType": "image/png", "buffer": f.png_bytes((200, 140))}
    )
    form.locator("input[name=authorisation_letter]").set_input_files(
        {"name": "委托书.pdf", "mimeType": "application/pdf", "buffer": f.pdf_bytes()}
    )
    shoot(page, "register", phone=True)
    with page.expect_navigation():
        form.locator("button[type=submit]").click()
    assert page.url.endswith("/employers/")
    assert "尚无" in page.locator("#invite-scope").inner_text()
    shoot(page, "portal-waiting", phone=True)
    logout(page)

    employer = Employer.objects.get()
    login(page, live_server, school_reviewer.username)
    page.goto(f"{live_server.url}/reviews/employers/")
    row = page.locator(".waiting-unit", has_text="北京测试科技有限公司")
    shoot(page, "review", phone=True)
    with page.expect_popup() as opened:
        row.get_by_role("link", name="营业执照").click()
    document = opened.value
    assert f"/employers/{employer.pk}/documents/licence/" in document.url
    document.close()
    row.locator("input[name=checked]").check()
    row.locator("input[name=note]").fill("执照与委托书已核对")
    with page.expect_navigation():
        row.get_by_role("button", name="认证").click()
    assert "已认证通过" in page.locator("main").inner_text()
    shoot(page, "verified", phone=True)
    logout(page)

    login(page, live_server, "hr-beijing", PASSWORD)
    page.goto(f"{live_server.url}/employers/")
    scope = page.locator("#invite-scope").inner_text()
    assert world.school_a.name in scope and world.school_b.name not in scope
    shoot(page, "portal-verified", phone=True)
