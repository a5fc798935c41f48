"""The Ministry drills down country → province → school → college → majors; a provincial
office starts at its own province."""

import pytest

from destreg.accounts.models import Role
from students.models import RegistryRecord
from students.tallies import destination_set
from tests import factories as f
from tests.browser.conftest import login

pytestmark = pytest.mark.browser


def test_the_ministry_drills_down_to_the_majors(
    new_page, live_server, world, ministry_staff, province_staff, shoot
):
    for n, major in enumerate([world.major_a1, world.major_a1, world.major_a2, world.major_b1]):
        record = f.make_record(major)
        if n != 1:
            destination_set(
                RegistryRecord.objects.filter(pk=record.pk), f.code("destination", "10"), None
            )

    page = new_page()
    login(page, live_server, ministry_staff.username)
    page.goto(f"{live_server.url}/")
    assert "全国毕业去向落实情况" in page.locator("h1").inner_text()
    assert "3 / 4" in page.locator("main").inner_text()
    shoot(page, "country", phone=True)
    with page.expect_navigation():
        page.locator("#provinces a", has_text="北京市").click()
    assert "北京市毕业去向落实情况" in page.locator("h1").inner_text()
    shoot(page, "province", phone=True)
    with page.expect_navigation():
        page.locator("#schools a", has_text=world.school_a.name).click()
    assert "2 / 3" in page.locator("main").inner_text()
    shoot(page, "school", phone=True)
    with page.expect_navigation():
        page.locator("#colleges a", has_text=world.a1.name).click()
    assert world.major_a1.name in page.locator("main").inner_text()
    shoot(page, "college", phone=True)
    with page.expect_navigation():
        page.locator(".breadcrumb a", has_text="全国").click()
    assert page.url.endswith("/reviews/oversight/")

    office = new_page()
    login(office, live_server, province_staff.username)
    office.goto(f"{live_server.url}/")
    assert office.url.endswith("/reviews/oversight/provinces/110000/")
    assert world.school_b.name not in office.locator("main").inner_text()
    assert province_staff.role == Role.PROVINCE_STAFF
