"""The online-signing journey: employer invites → student accepts → college and school
approve → the student sees 签约成功; and a college rejecting (签约失败)."""

import pytest

from agreements.models import Agreement
from tests.browser.conftest import login

pytestmark = pytest.mark.browser


def _invite(page, live_server, employer_user, student, shoot):
    login(page, live_server, employer_user.username)
    page.goto(f"{live_server.url}/agreements/invite/")
    form = page.locator("main form[method=post]")
    form.locator("input[name=name]").fill(student.real_name)
    form.locator("input[name=id_number]").fill(student.id_number)
    form.locator("select[name=job_category]").select_option("13")
    form.locator("input[name=position]").fill("软件工程师")
    form.locator("input[name=work_location]").fill("北京市海淀区")
    form.locator("input[name=salary]").fill("12000")
    form.locator("select[name=hukou]").select_option("employer")
    form.locator("textarea[name=supplement]").fill("提供住宿")
    assert page.locator("textarea[name=supplement] + .form-text").inner_text() == "4/1000"
    shoot(page, "invite-form")
    with page.expect_navigation():
        form.locator("button[type=submit]").click()
    assert "/agreements/invitations/" in page.url


def _accept(page, live_server, student, shoot):
    login(page, live_server, student.user.username)
    page.goto(f"{live_server.url}/agreements/invitations/")
    shoot(page, "student-invitations", phone=True)
    with page.expect_navigation():
        page.locator('main a[href*="/agreements/invitations/"]').first.click()
    with page.expect_navigation():
        page.locator("button[name=answer][value=accept]").click()
    with page.expect_navigation():  # the confirmation: one signing is final
        page.locator("main form[method=post] button[type=submit]").click()
    return Agreement.objects.get(student=student)


def _review(page, live_server, reviewer, agreement, decision, comment=""):
    login(page, live_server, reviewer.username)
    page.goto(f"{live_server.url}/reviews/")
    with page.expect_navigation():
        page.locator(f'a[href$="/reviews/agreements/{agreement.pk}/"]').click()
    if comment:
        page.locator("textarea[name=comment]").fill(comment)
    with page.expect_navigation():
        page.locator(f"button[name=decision][value={decision}]:not([formaction])").click()


def test_invite_accept_and_two_approvals_sign_the_agreement(
    new_page, live_server, employer_user, student, college_reviewer, school_reviewer, shoot
):
    _invite(new_page(), live_server, employer_user, student, shoot)
    student_page = new_page()
    agreement = _accept(student_page, live_server, student, shoot)
    assert agreement.status == "college_review"

    _review(new_page(), live_server, college_reviewer, agreement, "approve")
    reviewer_page = new_page()
    _review(reviewer_page, live_server, school_reviewer, agreement, "approve")
    agreement.refresh_from_db()
    assert agreement.status == "signed" and agreement.number

    student_page.goto(f"{live_server.url}/agreements/mine/")
    badge = student_page.locator("main .badge.text-bg-success").first
    assert badge.inner_text() == "签约成功"
    assert agreement.number in student_page.content()
    assert student_page.locator(".navbar .badge").count() == 1  # unread notifications
    shoot(student_page, "student-signed", phone=True)


def test_the_college_rejects_and_both_parties_see_why(
    new_page, live_server, employer_user, student, college_reviewer, shoot
):
    _invite(new_page(), live_server, employer_user, student, shoot)
    student_page = new_page()
    agreement = _accept(student_page, live_server, student, shoot)
    reviewer_page = new_page()
    _review(reviewer_page, live_server, college_reviewer, agreement, "reject", "岗位信息不完整")
    agreement.refresh_from_db()
    assert agreement.status == "failed"

    student_page.goto(f"{live_server.url}/agreements/{agreement.pk}/")
    assert "岗位信息不完整" in student_page.locator("main .alert-danger").inner_text()
    assert student_page.locator("main .badge.text-bg-danger").first.inner_text() == "签约失败"
    shoot(student_page, "student-failed", phone=True)
