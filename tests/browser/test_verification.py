"""就业核查 end to end: the school reviewer draws a sample and assigns it to the college's
reviewer, who finds the graduate's destination not true; the graduate reads why on the
registration that came back, and the statistics count the check."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from agreements.registrations import services as reg
from destreg.accounts.models import Role
from tests import factories as f
from tests.browser.conftest import login, logout

pytestmark = pytest.mark.browser

OTHER = {
    "kind": "further_study",
    "subtype": "研究生",
    "institution": "示例研究院",
    "program": "计算机",
}


def test_a_sampled_destination_found_not_true_goes_back_to_the_graduate(
    page, live_server, student, college_reviewer, school_reviewer, shoot
):
    proof = SimpleUploadedFile("录取通知书.pdf", f.pdf_bytes())  # the evidence rule's proof
    registration = reg.registration_save_draft(
        student=student, path="other", values=OTHER | {"proof": proof}
    )
    reg.registration_submit(registration=registration, user=student.user)
    # Approved by another reviewer of the college: ``college_reviewer`` verifies it.
    approver = f.make_user(
        Role.COLLEGE_REVIEWER, school=college_reviewer.school, college=college_reviewer.college
    )
    for reviewer in (approver, school_reviewer):
        reg.registration_review(registration=registration, reviewer=reviewer, decision="approve")

    login(page, live_server, school_reviewer.username)
    page.goto(f"{live_server.url}/reviews/verification/samples/")
    page.fill("input[name=percentage]", "100")
    page.fill("input[name=seed]", "20260601")
    shoot(page, "samples", phone=True)
    with page.expect_navigation():
        page.locator("form button[type=submit]").click()
    assert "20260601" in page.locator("main").inner_text()
    page.locator("input[name=item]").check()
    page.select_option("select[name=verifier]", str(college_reviewer.pk))
    with page.expect_navigation():
        page.locator("button", has_text="分配所选").click()
    assert "已分配 1 名毕业生" in page.locator("main").inner_text()
    shoot(page, "sample", phone=True)
    logout(page)

    login(page, live_server, college_reviewer.username)
    page.goto(f"{live_server.url}/reviews/verification/tasks/")
    shoot(page, "tasks", phone=True)
    with page.expect_navigation():
        page.locator("main table a").first.click()
    page.select_option("select[name=method]", "call_graduate")
    page.select_option("select[name=outcome]", "not_true")
    page.fill("textarea[name=notes]", "本人称未被录取")
    with page.expect_navigation():
        page.locator("main form button[type=submit]").click()
    main = page.locator("main").inner_text()
    assert "核查结果已记录" in main
    assert "存档：审核通过时的版本" in main and "示例研究院" in main
    shoot(page, "checked", phone=True)
    page.goto(f"{live_server.url}/reviews/statistics/")
    assert page.locator("#outcome-not_true").inner_text() == "1"
    logout(page)

    login(page, live_server, student.user.username)
    page.goto(f"{live_server.url}/agreements/registrations/{registration.pk}/")
    main = page.locator("main").inner_text()
    assert "本人称未被录取" in main and "退回修改" in main
    shoot(page, "returned", phone=True)
