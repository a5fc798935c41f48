"""学籍 import: the school uploads a file that would rename a confirmed graduate; the
import runs in the background, holds the change back, and a reviewer applies it."""

import pytest

from students.models import HeldRegistryChange, RegistryRecord, Student
from tests import factories as f
from tests.browser.conftest import login


@pytest.mark.browser
def test_a_held_back_rename_is_applied_by_the_school(
    new_page, live_server, world, student, school_reviewer, shoot
):
    new_id = f.new_id_number()
    rows = [
        f.registry_row(world, student.record.student_no, "彭也新", new_id, 手机号="13912345678"),
        f.registry_row(world, "N1", "新同学", f.new_id_number(), 电子邮箱="new@example.edu.cn"),
    ]
    data = f.registry_csv(rows, headings=f.REGISTRY_CONTACT_HEADINGS).getvalue()

    page = new_page()
    login(page, live_server, school_reviewer.username)
    page.goto(f"{live_server.url}/reviews/registry/import/")
    form = page.locator("main form[method=post]")
    form.locator("input[type=file]").set_input_files(
        {"name": "registry.csv", "mimeType": "text/csv", "buffer": data}
    )
    shoot(page, "upload", phone=True)
    with page.expect_navigation():
        form.locator("button[type=submit]").click()
    assert "/reviews/registry/import/" in page.url and page.url.rstrip("/")[-1].isdigit()
    page.wait_for_selector("main .alert-warning")  # the job page refreshes until done
    main = page.locator("main").inner_text()
    assert "共读取 2 行，成功导入 2 条，0 行有错误。" in main
    assert "暂缓" in main
    shoot(page, "job-done", phone=True)

    record = RegistryRecord.objects.get(pk=student.record_id)
    assert record.name == "彭也" and record.mobile == "13912345678"

    with page.expect_navigation():
        page.locator("main .alert-warning a").click()
    listing = page.locator("main").inner_text()
    assert "彭也新" in listing and new_id not in listing and "139****5678" in listing
    shoot(page, "held-changes", phone=True)
    with page.expect_navigation():
        page.locator("button[name=decision][value=apply]").click()
    assert "没有暂缓的变更" in page.locator("main").inner_text()
    shoot(page, "held-applied")

    assert HeldRegistryChange.objects.get().status == "applied"
    student = Student.objects.get(pk=student.pk)
    # Still the graduate's record (their destination stays on it); they confirm it again.
    assert student.record_id == record.pk and not student.is_confirmed
    assert student.real_name == "彭也新"
