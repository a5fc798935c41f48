"""信息更新: a student asks to correct their political status, the school approves it."""

import re

import pytest
from django.utils import translation

from destreg.reference.models import CodeTable
from students.models import RegistryRequest
from tests import factories as f
from tests.browser.conftest import login

NOTE = "入党材料已交学院，请更正为中共党员。"


def approved_label() -> str:
    with translation.override("zh-hans"):
        return str(RegistryRequest.Status.APPROVED.label)


@pytest.mark.browser
def test_update_request_approved_by_the_school(
    new_page, live_server, student, school_reviewer, shoot
):
    record = student.record
    assert record.political_status.code != "01"

    # The student files the correction.
    page = new_page()
    login(page, live_server, student.user.username)
    assert page.url.endswith("/students/")
    page.goto(f"{live_server.url}/students/requests/update/")
    form = page.locator("main form[method=post]")
    political = form.locator("select[name=political_status]")
    assert political.input_value() == record.political_status.code
    political.select_option("01")
    form.locator("textarea[name=note]").fill(NOTE)
    shoot(page, "update-form")
    with page.expect_navigation():
        form.locator("button[type=submit]").click()
    match = re.search(r"/students/requests/(\d+)/$", page.url)
    assert match, page.url
    pk = int(match.group(1))
    item = RegistryRequest.objects.get(pk=pk)
    assert item.student_id == student.pk
    assert item.kind == RegistryRequest.Kind.UPDATE
    assert item.status == RegistryRequest.Status.SUBMITTED
    assert item.data == {"political_status": "01"}
    assert NOTE in page.locator("main").inner_text()
    shoot(page, "request-submitted")

    # The school reviewer, in a separate browser context, approves it from the queue.
    reviewer = new_page()
    login(reviewer, live_server, school_reviewer.username)
    assert reviewer.url.endswith("/reviews/")
    link = reviewer.locator(f'main a[href$="/reviews/registry/{pk}/"]')
    assert "彭也" in reviewer.locator("main table").inner_text()
    shoot(reviewer, "queue")
    with reviewer.expect_navigation():
        link.click()
    assert reviewer.url.endswith(f"/reviews/registry/{pk}/")
    detail = reviewer.locator("main")
    assert "彭也" in detail.inner_text()
    assert NOTE in detail.inner_text()
    assert student.id_number not in detail.inner_text()  # reviewers see the masked number
    shoot(reviewer, "review-detail", phone=True)
    with reviewer.expect_navigation():
        reviewer.locator("button[name=decision][value=approve]:not([formaction])").click()
    assert reviewer.url.endswith("/reviews/")
    assert reviewer.locator(f'main a[href$="/reviews/registry/{pk}/"]').count() == 0
    shoot(reviewer, "queue-after-approval")

    item.refresh_from_db()
    assert item.status == RegistryRequest.Status.APPROVED
    assert item.reviewed_by_id == school_reviewer.pk
    record.refresh_from_db()
    assert record.political_status.code == "01"

    # The student signs in again and sees the request approved.
    page = new_page()
    login(page, live_server, student.user.username)
    assert page.url.endswith("/students/")
    row = page.locator("main tr", has=page.locator(f'a[href$="/students/requests/{pk}/"]'))
    badge = row.locator(".badge")
    assert "text-bg-success" in (badge.get_attribute("class") or "")
    assert badge.inner_text().strip() == approved_label()
    party_member = f.code(CodeTable.POLITICAL_STATUS, "01").name
    assert party_member in page.locator("main dl.dl-registry").inner_text()
    # No correction is pending any more, so a new one can be asked for.
    assert page.locator('main a[href$="/students/requests/update/"]').is_visible()
    shoot(page, "home-approved", phone=True)

    with page.expect_navigation():
        row.locator(f'a[href$="/students/requests/{pk}/"]').click()
    assert page.url == f"{live_server.url}/students/requests/{pk}/"
    badge = page.locator("main .badge")
    assert "text-bg-success" in (badge.get_attribute("class") or "")
    assert badge.inner_text().strip() == approved_label()
    assert NOTE in page.locator("main").inner_text()
    shoot(page, "request-approved")
