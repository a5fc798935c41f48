"""Reviewers find a graduate's record: the college issues an activation code, the school
unlinks an account that took the record."""

import pytest

from students.models import RegistryCode, Student
from tests import factories as f
from tests.browser.conftest import login


@pytest.mark.browser
def test_activation_code_and_unlinking(new_page, live_server, world, shoot):
    without_contact = f.make_record(world.major_a1, name="无联系", student_no="20220101")
    taken = f.make_record(
        world.major_a1,
        name="彭也",
        student_no="20220102",
        mobile="13812345678",
        email="pengye@school.example.edu.cn",
    )
    holder = f.make_student(taken)
    Student.objects.filter(pk=holder.pk).update(confirmed_via="code")
    college = f.make_user("college_reviewer", school=world.school_a, college=world.a1)
    school = f.make_user("school_reviewer", school=world.school_a)

    # The college reviewer looks the graduate up by name and opens the record.
    page = new_page()
    login(page, live_server, college.username)
    page.locator('nav a[href$="/reviews/records/"]').click()
    page.locator("input[name=q]").fill("2022010")
    with page.expect_navigation():
        page.locator("main form[role=search] button").click()
    rows = page.locator("main table tbody tr")
    assert rows.count() == 2
    shoot(page, "lookup", phone=True)
    with page.expect_navigation():
        page.locator(f'a[href$="/reviews/records/{without_contact.pk}/"]').click()
    assert page.locator("dd.record-mobile").inner_text() == "—"

    # Issuing shows the code once; only its hash is kept.
    with page.expect_navigation():
        page.locator("#activation button[type=submit]").click()
    code = page.locator("#new-activation-code .font-monospace").inner_text().strip()
    assert len(code) == 14
    assert RegistryCode.objects.get(record=without_contact).code_hash != code
    shoot(page, "activation-code", phone=True)
    page.reload()
    assert page.locator("#new-activation-code").count() == 0

    # The school reviewer unlinks the account bound to the other record, with a reason.
    page = new_page()
    login(page, live_server, school.username)
    page.goto(f"{live_server.url}/reviews/records/{taken.pk}/")
    binding = page.locator("#binding").inner_text()
    assert holder.user.username in binding
    assert page.locator("dd.record-mobile").inner_text() == "138****5678"
    assert page.locator("dd.record-mobile").count() == 1  # once, masked
    shoot(page, "record-bound", phone=True)
    with page.expect_navigation():
        page.locator("#unbind button[type=submit]").click()  # no reason: refused
    assert page.locator("#unbind .invalid-feedback, #unbind .is-invalid").first.is_visible()
    page.locator("#unbind textarea[name=reason]").fill(
        "冒用身份证号注册，学生本人已到就业指导中心核实"
    )
    with page.expect_navigation():
        page.locator("#unbind button[type=submit]").click()
    holder.refresh_from_db()
    assert holder.record is None and holder.confirmed_at is None
    assert page.locator("#binding").inner_text().count(holder.user.username) == 0
    assert "冒用身份证号注册" in page.locator("main").inner_text()  # in the history
    shoot(page, "record-unlinked", phone=True)
