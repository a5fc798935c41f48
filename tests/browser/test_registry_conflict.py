"""A graduate another school imported first: the record page tells the holding school, the
graduate's first-login page sends no code, and the platform admin resolves the case."""

import pytest

from students.importing import registry_import
from students.models import RegistryConflict
from tests import factories as f
from tests.browser.conftest import login

ID_NUMBER = "110101200301010012"


@pytest.mark.browser
def test_a_disputed_record_and_its_resolution(
    new_page, live_server, world, platform_admin, other_school_reviewer, shoot
):
    squatted = f.make_record(
        world.major_b1, name="李娜", id_number=ID_NUMBER, student_no="B1", mobile="13900000001"
    )
    row = f.registry_row(world, "A1", "李娜", ID_NUMBER, 手机号="13812345678")
    registry_import(
        school=world.school_a,
        handle=f.registry_csv([row], headings=f.REGISTRY_CONTACT_HEADINGS),
        filename="class.csv",
        actor=None,
    )
    case = RegistryConflict.objects.get()
    graduate = f.make_student(real_name="李娜", id_number=ID_NUMBER, confirmed=False)

    page = new_page()
    login(page, live_server, other_school_reviewer.username)
    page.goto(f"{live_server.url}/reviews/records/{squatted.pk}/")
    assert page.locator("#registry-conflict").is_visible()
    shoot(page, "record", phone=True)

    page = new_page()
    login(page, live_server, graduate.user.username)
    assert page.locator("#record-disputed").is_visible()
    assert page.locator("#send-code").count() == 0
    shoot(page, "first-login", phone=True)

    page = new_page()
    login(page, live_server, platform_admin.username)
    page.goto(f"{live_server.url}/admin/students/registryconflict/")
    shoot(page, "admin-list")
    page.goto(f"{live_server.url}/admin/students/registryconflict/{case.pk}/resolve/")
    page.locator("textarea[name=note]").fill("两校核实：B1 为误导入，已删除。")
    shoot(page, "admin-resolve", phone=True)
    with page.expect_navigation():
        page.locator("input[type=submit]").click()
    case.refresh_from_db()
    assert case.resolved_by == platform_admin
    shoot(page, "admin-resolved")
