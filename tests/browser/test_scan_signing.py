"""扫码签约: the graduate starts → the unit's contact opens the link (no account, a fresh
browser) → confirms its credit code, fills its details and the terms → the graduate accepts
→ college and school approve → 签约成功 and the PDF."""

from pathlib import Path

import pytest
from stdnum.cn import uscc as stdnum_uscc

from agreements.models import Agreement, UnitSigningRequest
from destreg.reference.models import Code
from tests.browser.conftest import SCREENSHOTS, login
from tests.browser.test_online_signing import _review

pytestmark = pytest.mark.browser

USCC = "91110000600000001"
USCC += stdnum_uscc.calc_check_digit(USCC)
UNIT = "北京未注册科技有限公司"


def _start(page, live_server, student, shoot) -> str:
    login(page, live_server, student.user.username)
    page.goto(f"{live_server.url}/agreements/register/")
    with page.expect_navigation():
        page.locator("#scan-sign a").click()
    form = page.locator("main form[method=post]")
    form.locator("input[name=unit_name]").fill(UNIT)
    form.locator("input[name=unit_uscc]").fill(USCC)
    form.locator("input[name=contact_name]").fill("王经理")
    form.locator("input[name=contact_email]").fill("hr@unit.example.com")
    shoot(page, "student-start", phone=True)
    with page.expect_navigation():
        form.locator("button[type=submit]").click()
    assert page.locator("main img.qr-code").evaluate("img => img.naturalWidth") > 0
    shoot(page, "student-qr", phone=True)
    return page.locator("#unit-sign-link").get_attribute("href")


def _unit_confirms(page, link, shoot, *, wrong_first=True):
    page.goto(link)
    graduate = page.locator("#graduate").inner_text()
    assert "彭也" in graduate
    form = page.locator("main form[method=post]")
    assert form.locator("input[name=name]").input_value() == UNIT
    form.locator("select[name=nature]").select_option(
        str(Code.objects.get(table="unit_nature", code="39").pk)
    )
    form.locator("select[name=industry]").select_option(
        str(Code.objects.get(table="industry", code="I").pk)
    )
    for level, code in [("province", "110000"), ("city", "110100"), ("county", "110108")]:
        form.locator(f"#id_region_{level}").select_option(code)
    form.locator("input[name=address]").fill("中关村大街1号")
    form.locator("input[name=contact_mobile]").fill("13900001111")
    form.locator("select[name=job_category]").select_option("13")
    form.locator("input[name=position]").fill("软件工程师")
    form.locator("input[name=work_location]").fill("北京市海淀区")
    form.locator("input[name=salary]").fill("12000")
    form.locator("select[name=hukou]").select_option("employer")
    if wrong_first:  # another code: refused, nothing typed is lost
        other = "91110000600000002"
        form.locator("input[name=confirm_uscc]").fill(other + stdnum_uscc.calc_check_digit(other))
        with page.expect_navigation():
            form.locator("button[name=answer][value=accept]").click()
        assert "毕业生填写的统一社会信用代码不一致" in page.content()
        assert form.locator("input[name=position]").input_value() == "软件工程师"
        shoot(page, "unit-wrong-code", phone=True)
    form.locator("input[name=confirm_uscc]").fill(USCC)
    with page.expect_navigation():
        form.locator("button[name=answer][value=accept]").click()
    assert page.locator("#unit-done").is_visible()
    shoot(page, "unit-done", phone=True)


def test_scan_to_sign_from_start_to_the_signed_pdf(
    new_page, live_server, student, college_reviewer, school_reviewer, shoot
):
    student_page = new_page()
    link = _start(student_page, live_server, student, shoot)
    assert "/agreements/unit-sign/" in link

    unit_page = new_page()  # the contact: a fresh browser, no account
    _unit_confirms(unit_page, link, shoot)
    unit_page.goto(link)  # the link is spent
    assert (
        "此链接已过期或已被使用" in unit_page.content()
        or unit_page.locator(".alert-danger").is_visible()
    )

    student_page.reload()
    with student_page.expect_navigation():
        student_page.locator("#see-invitation").click()
    assert "扫码签约" in student_page.locator("h1").inner_text()
    shoot(student_page, "student-invitation", phone=True)
    with student_page.expect_navigation():
        student_page.locator("button[name=answer][value=accept]").click()
    with student_page.expect_navigation():
        student_page.locator("main form[method=post] button[type=submit]").click()
    agreement = Agreement.objects.get(student=student)
    assert (agreement.status, agreement.unit_uscc) == ("college_review", USCC)
    assert UnitSigningRequest.objects.get().status == "confirmed"

    reviewer_page = new_page()
    _review(reviewer_page, live_server, college_reviewer, agreement, "approve")
    _review(new_page(), live_server, school_reviewer, agreement, "approve")
    agreement.refresh_from_db()
    assert agreement.status == "signed" and agreement.number

    student_page.goto(f"{live_server.url}/agreements/mine/")
    assert student_page.locator("main .badge.text-bg-success").first.inner_text() == "签约成功"
    assert student_page.locator("#scan-sign-mark").inner_text() == "扫码签约"
    shoot(student_page, "student-signed", phone=True)
    with student_page.expect_download() as download:
        student_page.locator(f'main a[href$="/agreements/{agreement.pk}/download/"]').click()
    pdf = Path(download.value.path()).read_bytes()
    assert pdf[:5] == b"%PDF-"
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    (SCREENSHOTS / "scan-signing-agreement.pdf").write_bytes(pdf)


def test_the_unit_declines_and_the_graduate_sees_it(new_page, live_server, student, shoot):
    student_page = new_page()
    link = _start(student_page, live_server, student, shoot)
    unit_page = new_page()
    unit_page.goto(link)
    with unit_page.expect_navigation():
        unit_page.locator("button[name=answer][value=decline]").click()
    assert unit_page.locator("#unit-declined").is_visible()
    student_page.reload()
    assert "单位已拒绝" in student_page.locator("main .badge").first.inner_text()
    assert student_page.locator("#unit-sign-link").count() == 0
    shoot(student_page, "student-declined", phone=True)
