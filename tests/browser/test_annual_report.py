"""A school reviewer draws up the annual report from the navbar, watches a report's progress
update in place, and downloads the PDF."""

from pathlib import Path

import pytest
from django.core.files.base import ContentFile

from reviews.models import AnnualReport
from students.models import current_graduation_year
from tests import factories as f
from tests.browser.conftest import login

pytestmark = pytest.mark.browser


def test_a_school_reviewer_draws_up_and_downloads_the_report(
    page, live_server, world, signed, school_reviewer, shoot
):
    f.make_record(world.major_a2, destination=f.code("destination", "70"))
    login(page, live_server, school_reviewer.username)
    page.locator("#nav a.nav-link", has_text="统计").first.click()
    page.wait_for_url("**/reviews/statistics/")
    page.locator("#school-reporting a", has_text="年度报告").click()
    page.wait_for_url("**/reviews/annual-reports/")
    shoot(page, "form", phone=True)
    with page.expect_navigation():
        page.locator("main form button[type=submit]").click()
    # The in-process task backend has drawn it up by the time the page shows.
    download_link = page.locator("main a", has_text="下载 PDF")
    assert download_link.is_visible()
    shoot(page, "done", phone=True)
    with page.expect_download() as download:
        download_link.click()
    assert Path(download.value.path()).read_bytes()[:5] == b"%PDF-"
    page.goto(f"{live_server.url}/reviews/annual-reports/")
    assert page.locator("main table tbody tr").count() == 1
    shoot(page, "list", phone=True)


def test_the_progress_updates_in_place_until_the_pdf_is_ready(
    page, live_server, world, school_reviewer, shoot
):
    report = AnnualReport.objects.create(
        school=world.school_a,
        year=current_graduation_year(),
        status=AnnualReport.Status.RUNNING,
        progress=40,
        as_of="2026-12-01 09:00",
        requested_by=school_reviewer,
    )
    login(page, live_server, school_reviewer.username)
    page.goto(f"{live_server.url}/reviews/annual-reports/{report.pk}/")
    assert "40%" in page.locator("#report-progress").inner_text()
    shoot(page, "running", phone=True)
    url = page.url
    report.file.save("r.pdf", ContentFile(b"%PDF-1.7\n%%EOF\n"), save=False)
    AnnualReport.objects.filter(pk=report.pk).update(
        file=report.file.name, status=AnnualReport.Status.DONE, progress=100
    )
    page.locator("#report-progress a", has_text="下载 PDF").wait_for()
    assert page.url == url  # swapped in place, not reloaded
    assert page.locator("#report-progress").get_attribute("data-poll") is None
