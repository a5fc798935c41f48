"""批量邀请: after a campus recruitment round the unit's HR uploads the list of graduates with
a terms template, looks at each row's answer, presses 发送 and downloads the results."""

import io

import pytest
from django.utils import translation
from django.utils.translation import gettext
from openpyxl import load_workbook

from agreements.models import Invitation, TermTemplate
from tests import factories as f
from tests.browser.conftest import login

pytestmark = pytest.mark.browser


def zh(text: str) -> str:
    with translation.override("zh-hans"):
        return gettext(text)


def test_a_unit_invites_a_list_of_graduates(
    new_page, live_server, employer_user, student, other_student, shoot
):
    TermTemplate.objects.create(
        employer=employer_user.employer,
        name="2027届校招",
        job_category=f.code("job_category", "13"),
        position="软件工程师",
        work_location="北京市海淀区",
        salary=12000,
        hukou="employer",
        updated_by=employer_user,
    )
    stranger = f.new_id_number()
    data = (
        "姓名,身份证号,岗位名称\n"
        f"{student.real_name},{student.id_number},\n"
        f"{other_student.real_name},{other_student.id_number},算法工程师\n"
        f"无此人,{stranger},\n"
        "张三,123,\n"
    ).encode("utf-8-sig")

    page = new_page()
    login(page, live_server, employer_user.username)
    page.goto(f"{live_server.url}/agreements/sent/")
    with page.expect_navigation():
        page.locator("#batch-invitations").click()
    with page.expect_navigation():
        page.locator("main a", has_text="批量邀请毕业生").click()
    form = page.locator("main form[method=post]")
    form.locator("select[name=template]").select_option(label="2027届校招")
    form.locator("input[type=file]").set_input_files(
        {"name": "名单.csv", "mimeType": "text/csv", "buffer": data}
    )
    shoot(page, "upload", phone=True)
    with page.expect_navigation():
        form.locator("button[type=submit]").click()

    main = page.locator("main").inner_text()
    assert "共 4 行，其中 2 行可邀请。" in main
    assert "没有与该姓名和身份证号匹配、可以签约的应届毕业生。" in main
    assert "张三" in main and zh("An ID number has 18 characters.") in main
    assert student.id_number not in main and stranger not in main
    assert not Invitation.objects.exists()  # nothing sent by the preview
    shoot(page, "preview", phone=True)

    with page.expect_navigation():
        page.locator("#send-batch").click()
    page.wait_for_selector("#batch-outcome")  # the progress part refreshes until done
    assert "已发送 2 份签约邀请，0 行未发送。" in page.locator("main").inner_text()
    assert page.locator("#send-batch").count() == 0  # 发送 only once
    shoot(page, "sent", phone=True)
    assert Invitation.objects.get(student=other_student).position == "算法工程师"
    assert Invitation.objects.get(student=student).position == "软件工程师"

    with page.expect_download() as download:
        page.locator("#result-xlsx").click()
    with open(download.value.path(), "rb") as handle:
        sheet = load_workbook(io.BytesIO(handle.read())).active
    values = [list(row) for row in sheet.iter_rows(values_only=True)]
    assert [row[4] for row in values[1:]] == ["已发送", "已发送", "未发送", "未发送"]
    assert values[1][2] == student.id_number_masked
    assert not any(student.id_number in str(row) for row in values)
