"""Changing one's mind in the browser: 申请解约 of an approved offline e-agreement answered by a
unit without an account through its one-time link, reviewed by college and school; then a
new registration. And the unit's portal, a 作废申请, and the cut-off's mark in the queue."""

from datetime import timedelta

import pytest
from django.core import mail
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from agreements.models import Registration, Termination
from agreements.registrations import services as reg
from agreements.tasks import store_pdf
from tests import factories as f
from tests.browser.conftest import login

pytestmark = pytest.mark.browser
PNG = f.png_bytes()
OFFLINE = {
    "unit_name": "北京测试科技有限公司", "unit_uscc": "91110000100000000R",
    "contact_name": "刘经理", "contact_mobile": "13900001111",
    "contact_email": "hr@example.com", "position": "工程师", "work_location": "北京",
    "hukou": "employer",
}  # fmt: skip


def _approved(student, path, values, college_reviewer, school_reviewer):
    if path != "offline":  # the proof the evidence rule asks for (offline: the scan, below)
        values = values | {"proof": SimpleUploadedFile("p.png", PNG, content_type="image/png")}
    item = reg.registration_save_draft(student=student, path=path, values=values)
    reg.registration_submit(registration=item, user=student.user)
    for reviewer in (college_reviewer, school_reviewer):
        reg.registration_review(registration=item, reviewer=reviewer, decision="approve")
    if path == "offline":
        store_pdf(Registration, item.pk)
        scan = SimpleUploadedFile("scan.png", PNG, content_type="image/png")
        reg.registration_upload_scan(registration=item, scan=scan, user=student.user)
        for reviewer in (college_reviewer, school_reviewer):
            reg.registration_review(registration=item, reviewer=reviewer, decision="approve")
    item.refresh_from_db()
    assert item.status == "approved"
    return item


def _open(page, summary: str) -> None:
    """Open a <details> by its summary, then move the pointer off it: a button's hover
    transition caught half-way has too little contrast for axe-core."""
    page.locator("summary", has_text=summary).click()
    page.mouse.move(0, 0)
    page.wait_for_timeout(300)


def _decide_in_queue(page, live_server, reviewer, termination, shoot=None, step=""):
    login(page, live_server, reviewer.username)
    page.goto(f"{live_server.url}/reviews/")
    with page.expect_navigation():
        page.locator(f'a[href$="/reviews/terminations/{termination.pk}/"]').click()
    if shoot:
        shoot(page, step, phone=True)
    with page.expect_navigation():
        page.locator("button[name=decision][value=approve]:not([formaction])").click()
    page.context.clear_cookies()


def test_offline_agreement_terminated_with_the_units_consent_through_its_link(
    new_page, live_server, student, college_reviewer, school_reviewer, shoot
):
    item = _approved(student, "offline", OFFLINE, college_reviewer, school_reviewer)
    page = new_page()
    login(page, live_server, student.user.username)
    url = f"{live_server.url}/agreements/registrations/{item.pk}/"
    page.goto(url)
    _open(page, "申请解约")
    shoot(page, "request-form", phone=True)
    form = page.locator(f'form[action$="/registrations/{item.pk}/terminate/"]')
    form.locator("textarea[name=reason]").fill("已考取研究生，申请解约。")
    form.locator("input[name=document]").set_input_files(
        {"name": "解约函.png", "mimeType": "image/png", "buffer": PNG}
    )
    with page.expect_navigation():
        form.locator("button[type=submit]").click()
    termination = Termination.objects.get(registration=item)
    assert termination.status == "awaiting_party"
    assert page.locator("#change-request").count() == 1
    shoot(page, "requested", phone=True)

    message = mail.outbox[-1]
    assert message.to == ["hr@example.com"]
    link = next(word for word in message.body.split() if "/agreements/terminate/" in word)
    path = link[link.index("/agreements/terminate/") :]
    unit = new_page()  # no account, no login
    unit.goto(f"{live_server.url}{path}")
    assert "已考取研究生" in unit.content()
    shoot(unit, "unit-link", phone=True)
    with unit.expect_navigation():
        unit.locator("button[name=agree][value='1']").click()
    assert unit.locator("#link-done").count() == 1
    unit.goto(f"{live_server.url}{path}")
    assert unit.locator("main .alert-danger").count() == 1  # the link works once

    reviewer = new_page()
    _decide_in_queue(reviewer, live_server, college_reviewer, termination, shoot, "college")
    _decide_in_queue(reviewer, live_server, school_reviewer, termination)
    item.refresh_from_db()
    assert item.status == "terminated"

    page.goto(url)
    assert "已解约" in page.locator("main h1 + .badge, main .badge").first.inner_text()
    shoot(page, "terminated", phone=True)
    verify = new_page()
    verify.goto(f"{live_server.url}/agreements/verify/{item.verify_token}/")
    assert "已解约" in verify.locator(".verify-state").inner_text()
    shoot(verify, "verify", phone=True)

    # The destination is free: a new registration can be started and submitted.
    page.goto(f"{live_server.url}/agreements/register/")
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
    again = Registration.objects.exclude(pk=item.pk).get(student=student)
    assert again.status == "college_review"


def test_the_unit_portal_a_void_request_and_the_cut_off_mark(
    new_page, live_server, student, other_student, employer_user, world, college_reviewer,
    school_reviewer, shoot,
):  # fmt: skip
    paper = {"unit_name": employer_user.employer.name, "unit_uscc": employer_user.employer.uscc,
             "paper_number": "P-1", "position": "工程师"}  # fmt: skip
    _approved(student, "paper", paper, college_reviewer, school_reviewer)
    other = _approved(
        other_student, "other", {"kind": "further_study", "subtype": "研究生",
                                 "institution": "示例大学", "program": "计算机"},
        college_reviewer, school_reviewer,
    )  # fmt: skip
    world.school_a.reporting_cutoff = timezone.localdate() - timedelta(days=1)
    world.school_a.save(update_fields=["reporting_cutoff"])

    unit = new_page()
    login(unit, live_server, employer_user.username)
    unit.goto(f"{live_server.url}/agreements/unit/")
    _open(unit, "申请解约")
    shoot(unit, "portal", phone=True)
    unit.locator("textarea[name=reason]").fill("岗位取消")
    with unit.expect_navigation():
        unit.locator("main form button[type=submit]").click()
    assert Termination.objects.get(registration__student=student).requested_by == "employer"
    shoot(unit, "portal-requested", phone=True)

    page = new_page()
    login(page, live_server, other_student.user.username)
    page.goto(f"{live_server.url}/agreements/registrations/{other.pk}/")
    _open(page, "作废申请")
    page.locator("textarea[name=reason]").fill("升学未被录取")
    with page.expect_navigation():
        page.locator('form[action$="/void/"] button').click()
    assert page.locator("#after-cutoff").count() == 1
    shoot(page, "void-requested", phone=True)

    reviewer = new_page()
    login(reviewer, live_server, school_reviewer.username)
    reviewer.goto(f"{live_server.url}/reviews/")
    assert "截止后变更" in reviewer.locator("main table").inner_text()
    shoot(reviewer, "queue", phone=True)
