"""Paths 二 and 四 in the browser: the offline e-agreement through both ways of returning
the stamped agreement (one of them from a saved draft to 我的签约), and one
other-destination registration."""

import pytest
from django.core import mail

from agreements.models import Registration
from agreements.registrations import services as reg
from agreements.tasks import store_pdf
from students.models import RegistryRecord
from tests import factories as f
from tests.browser.conftest import login

pytestmark = pytest.mark.browser
PNG = f.png_bytes()


def _review(page, live_server, reviewer, item, decision="approve"):
    login(page, live_server, reviewer.username)
    page.goto(f"{live_server.url}/reviews/")
    with page.expect_navigation():
        page.locator(f'a[href$="/reviews/registrations/{item.pk}/"]').click()
    with page.expect_navigation():
        page.locator(f"button[name=decision][value={decision}]:not([formaction])").click()
    page.context.clear_cookies()


def _fill_offline(page, live_server, employer_name, action="submit"):
    page.goto(f"{live_server.url}/agreements/register/offline/new/")
    form = page.locator("main form[method=post]")
    form.locator("input[name=unit_name]").fill(employer_name[:4])
    form.locator("input[name=unit_name] + button").click()  # 点击搜索
    page.locator("#unit-results button").first.click()
    assert form.locator("input[name=unit_uscc]").input_value()  # filled from the search
    form.locator("input[name=unit_address]").fill("测试路1号")
    form.locator("input[name=contact_name]").fill("刘经理")
    form.locator("input[name=contact_mobile]").fill("13900001111")
    form.locator("input[name=contact_email]").fill("hr@example.com")
    form.locator("select[name=job_category]").select_option("13")
    form.locator("input[name=position]").fill("工程师")
    form.locator("input[name=work_location]").fill("北京市海淀区")
    form.locator("select[name=hukou]").select_option("employer")
    with page.expect_navigation():
        form.locator(f"button[name=action][value={action}]").click()


def _upload_scan(page, live_server, item):
    page.goto(f"{live_server.url}/agreements/registrations/{item.pk}/")
    page.locator("input[name=scan]").set_input_files(
        {"name": "stamped.png", "mimeType": "image/png", "buffer": PNG}
    )
    with page.expect_navigation():
        page.locator('form[action$="/scan/"] button').click()


def test_offline_agreement_returned_by_the_student(
    new_page, live_server, student, employer_user, college_reviewer, school_reviewer, shoot
):
    page = new_page()
    login(page, live_server, student.user.username)
    _fill_offline(page, live_server, employer_user.employer.name)
    item = Registration.objects.get(student=student)
    assert item.status == "college_review" and item.unit_uscc == employer_user.employer.uscc
    shoot(page, "submitted", phone=True)

    reviewer = new_page()
    _review(reviewer, live_server, college_reviewer, item)
    _review(reviewer, live_server, school_reviewer, item)
    store_pdf(Registration, item.pk)  # the in-process task runs after commit in real use

    page.goto(f"{live_server.url}/agreements/registrations/{item.pk}/")
    assert page.locator(f'a[href$="/registrations/{item.pk}/pdf/"]').count() == 1
    _upload_scan(page, live_server, item)
    assert Registration.objects.get(pk=item.pk).status == "scan_college_review"

    _review(reviewer, live_server, college_reviewer, item)
    _review(reviewer, live_server, school_reviewer, item)
    item.refresh_from_db()
    assert item.status == "approved" and item.number
    page.goto(f"{live_server.url}/agreements/registrations/{item.pk}/")
    assert item.number in page.content()
    shoot(page, "approved", phone=True)


def test_offline_draft_edited_submitted_and_shown_in_my_signing(
    new_page, live_server, student, employer_user, college_reviewer, school_reviewer, shoot
):
    page = new_page()
    login(page, live_server, student.user.username)
    _fill_offline(page, live_server, employer_user.employer.name, action="draft")
    item = Registration.objects.get(student=student)
    assert item.status == "draft" and item.unit_nature and item.unit_industry

    # 修改并提交: the saved code-table selects come back filled, not "---------".
    with page.expect_navigation():
        page.locator(f'a[href$="/registrations/{item.pk}/edit/"]').click()
    form = page.locator("main form[method=post]")
    assert form.locator("select[name=unit_nature]").input_value() == item.unit_nature.code
    assert form.locator("select[name=unit_industry]").input_value() == item.unit_industry.code
    assert form.locator("select[name=job_category]").input_value() == "13"
    shoot(page, "edit-draft", phone=True)
    with page.expect_navigation():
        form.locator("button[name=action][value=submit]").click()
    assert page.locator("main .is-invalid").count() == 0
    item.refresh_from_db()
    assert item.status == "college_review"

    reviewer = new_page()
    _review(reviewer, live_server, college_reviewer, item)
    _review(reviewer, live_server, school_reviewer, item)
    store_pdf(Registration, item.pk)  # the in-process task runs after commit in real use
    _upload_scan(page, live_server, item)
    _review(reviewer, live_server, college_reviewer, item)
    _review(reviewer, live_server, school_reviewer, item)
    item.refresh_from_db()
    assert item.status == "approved"
    store_pdf(Registration, item.pk)

    page.goto(f"{live_server.url}/agreements/mine/")
    main = page.locator("main")
    assert main.locator(".badge.text-bg-success").inner_text() == "签约成功"
    for section in ("协议书预览", "单位信息", "学生信息", "下载协议书", item.number):
        assert section in main.inner_text(), section
    shoot(page, "my-signing", phone=True)


def test_offline_agreement_returned_by_the_unit(
    new_page, live_server, student, college_reviewer, school_reviewer, shoot
):
    values = {
        "unit_name": "北京测试科技有限公司", "unit_uscc": "91110000100000000R",
        "contact_name": "刘经理", "contact_mobile": "13900001111",
        "contact_email": "hr@example.com", "position": "工程师", "work_location": "北京",
        "hukou": "employer",
    }  # fmt: skip
    item = reg.registration_save_draft(student=student, path="offline", values=values)
    reg.registration_submit(registration=item, user=student.user)
    for reviewer in (college_reviewer, school_reviewer):
        reg.registration_review(registration=item, reviewer=reviewer, decision="approve")
    store_pdf(Registration, item.pk)

    page = new_page()
    login(page, live_server, student.user.username)
    page.goto(f"{live_server.url}/agreements/registrations/{item.pk}/")
    with page.expect_navigation():
        page.locator('form[action$="/return-link/"] button').click()
    message = mail.outbox[-1]
    assert message.to == ["hr@example.com"]
    link = next(word for word in message.body.split() if "/agreements/return/" in word)
    path = link[link.index("/agreements/return/") :]

    unit = new_page()  # no account, no login
    unit.goto(f"{live_server.url}{path}")
    shoot(unit, "unit-page", phone=True)
    with unit.expect_download() as download:
        unit.locator('a[href="?download=1"]').click()
    assert download.value.suggested_filename.endswith(".pdf")
    unit.locator("input[name=scan]").set_input_files(
        {"name": "stamped.png", "mimeType": "image/png", "buffer": PNG}
    )
    with unit.expect_navigation():
        unit.locator("main form button[type=submit]").click()
    assert unit.locator("main .alert-success").count() == 1
    assert Registration.objects.get(pk=item.pk).status == "scan_college_review"
    unit.goto(f"{live_server.url}{path}")
    assert unit.locator("main .alert-danger").count() == 1  # the link works once


def test_other_destination_registration(
    new_page, live_server, student, college_reviewer, school_reviewer, shoot
):
    page = new_page()
    login(page, live_server, student.user.username)
    page.goto(f"{live_server.url}/agreements/register/")
    shoot(page, "hub", phone=True)
    page.locator("select[name=kind]").select_option("freelance")
    with page.expect_navigation():
        page.locator('form[action$="/register/other/new/"] button').click()
    form = page.locator("main form[method=post]")
    form.locator("input[name=subtype]").fill("自由撰稿人")
    form.locator("input[name=salary]").fill("6000")  # held against the minimum wage
    picker = form.locator("[data-region-picker]")
    picker.get_by_label("省份").select_option(label="广东省")
    picker.get_by_label("地市").select_option(label="深圳市")
    form.locator("input[name=proof]").set_input_files(
        {"name": "statement.png", "mimeType": "image/png", "buffer": PNG}
    )
    form.locator("input[name=extra_proof]").set_input_files(  # 自由职业: proof of income too
        {"name": "income.png", "mimeType": "image/png", "buffer": PNG}
    )
    with page.expect_navigation():
        form.locator("button[name=action][value=submit]").click()
    item = Registration.objects.get(student=student)
    assert (item.status, item.destination.code) == ("college_review", "76")

    reviewer = new_page()
    _review(reviewer, live_server, college_reviewer, item)
    _review(reviewer, live_server, school_reviewer, item)
    assert RegistryRecord.objects.get(pk=student.record_id).destination.code == "76"
    page.goto(f"{live_server.url}/students/")
    assert "自由职业" in page.content()
    shoot(page, "home-with-destination", phone=True)
