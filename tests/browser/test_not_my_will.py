"""这不是我本人的意愿, end to end: the college fails a graduate's agreement; the graduate reads
the notification, follows its link and reports that it was not their own wish; the school
reviewer finds the report on the reports list and marks it handled."""

import pytest

from agreements.online import services as online
from students.models import CoercionReport
from tests.browser.conftest import login, logout

pytestmark = pytest.mark.browser


def test_a_graduate_reports_a_change_and_the_school_handles_it(
    new_page, live_server, agreement, student, college_reviewer, school_reviewer, shoot
):
    online.agreement_fail(agreement=agreement, reviewer=college_reviewer, reason="材料不符")
    page = new_page()
    login(page, live_server, student.user.username)
    page.goto(f"{live_server.url}/notifications/")
    assert "就业协议审核不通过：材料不符" in page.locator("main").inner_text()
    shoot(page, "notifications", phone=True)
    with page.expect_navigation():
        page.get_by_role("link", name="这不是我本人的意愿").first.click()
    assert "通知您的变更" in page.locator("main").inner_text()
    page.get_by_label("发生了什么（选填）").fill("是别人用我的账号操作的")
    shoot(page, "report-form", phone=True)
    with page.expect_navigation():
        page.get_by_role("button", name="提交反映：这不是我本人的意愿").click()
    text = page.locator("main").inner_text()
    assert "您的反映已提交" in text and "您已反映这不是您本人的意愿。" in text
    shoot(page, "report-filed", phone=True)
    report = CoercionReport.objects.get()
    assert (report.student, report.text) == (student, "是别人用我的账号操作的")

    logout(page)
    login(page, live_server, school_reviewer.username)
    page.goto(f"{live_server.url}/reviews/verification/reports/")
    assert "是别人用我的账号操作的" in page.locator("main").inner_text()
    shoot(page, "reports-list", phone=True)
    page.get_by_label("处理情况").fill("已约谈学生并重新核实")
    with page.expect_navigation():
        page.get_by_role("button", name="标记为已处理").click()
    assert "已标记为已处理。" in page.locator("main").inner_text()
    page.goto(f"{live_server.url}/reviews/verification/reports/?status=handled")
    assert "已约谈学生并重新核实" in page.locator("main").inner_text()
    shoot(page, "reports-handled", phone=True)
    report.refresh_from_db()
    assert (report.status, report.handled_by) == ("handled", school_reviewer)
