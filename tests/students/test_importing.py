import io

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.urls import reverse
from openpyxl import Workbook

from students.importing import registry_import
from students.models import RegistryRecord
from tests import factories as f


def _xlsx(rows) -> io.BytesIO:
    book = Workbook()
    sheet = book.active
    sheet.append(f.REGISTRY_HEADINGS)
    for row in rows:
        sheet.append([row[h] for h in f.REGISTRY_HEADINGS])
    out = io.BytesIO()
    book.save(out)
    out.seek(0)
    return out


@pytest.fixture
def good_rows(world):
    return [f.registry_row(world, f"A{n}", f"学生{n}", f.new_id_number()) for n in range(3)]


@pytest.mark.parametrize("make_file", [f.registry_csv, _xlsx], ids=["csv", "xlsx"])
def test_a_valid_file_imports_every_row(world, good_rows, make_file):
    report = registry_import(
        school=world.school_a, handle=make_file(good_rows), filename="x", actor=None
    )
    assert report.ok and report.imported == 3
    record = RegistryRecord.objects.get(student_no="A0")
    assert record.ethnicity.name == "汉族" and record.political_status.code == "13"
    assert record.id_number == good_rows[0]["身份证号"]
    assert record.graduation_year == 2026


def test_gb18030_csv_from_excel_is_read(world, good_rows):
    report = registry_import(
        school=world.school_a,
        handle=f.registry_csv(good_rows, "gb18030"),
        filename="x.csv",
        actor=None,
    )
    assert report.imported == 3


def test_one_bad_row_imports_nothing_and_reports_the_line(world, good_rows):
    rows = [*good_rows, f.registry_row(world, "BAD", "坏", "110101199801010001", 民族="火星族")]
    report = registry_import(
        school=world.school_a, handle=f.registry_csv(rows), filename="x", actor=None
    )
    assert report.imported == 0
    assert [e.line for e in report.errors] == [5]
    assert any("身份证号" in m for m in report.errors[0].messages)
    assert any("火星族" in m for m in report.errors[0].messages)
    assert not RegistryRecord.objects.exists()


def test_valid_only_imports_the_good_rows(world, good_rows):
    rows = [*good_rows, f.registry_row(world, "BAD", "坏", "1234")]
    report = registry_import(
        school=world.school_a,
        handle=f.registry_csv(rows),
        filename="x",
        actor=None,
        valid_only=True,
    )
    assert report.imported == 3 and len(report.errors) == 1
    assert RegistryRecord.objects.count() == 3


def test_reimport_updates_by_school_and_student_number(world, good_rows):
    registry_import(
        school=world.school_a, handle=f.registry_csv(good_rows), filename="x", actor=None
    )
    good_rows[0]["姓名"] = "改名"
    registry_import(
        school=world.school_a, handle=f.registry_csv(good_rows), filename="x", actor=None
    )
    assert RegistryRecord.objects.count() == 3
    assert RegistryRecord.objects.get(student_no="A0").name == "改名"


def test_duplicate_student_numbers_and_foreign_colleges_are_errors(world, good_rows):
    rows = [
        *good_rows,
        good_rows[0],
        f.registry_row(world, "X", "外", f.new_id_number(), 院系="乙一学院"),
    ]
    report = registry_import(
        school=world.school_a, handle=f.registry_csv(rows), filename="x", actor=None
    )
    assert [e.line for e in report.errors] == [5, 6]


def test_the_management_command(world, good_rows, tmp_path, capsys):
    path = tmp_path / "registry.csv"
    path.write_bytes(f.registry_csv(good_rows).getvalue())
    call_command("import_registry", world.school_a.code, str(path))
    assert RegistryRecord.objects.count() == 3
    path.write_bytes(f.registry_csv([f.registry_row(world, "B", "坏", "1")]).getvalue())
    with pytest.raises(CommandError):
        call_command("import_registry", world.school_a.code, str(path))


def test_school_staff_import_through_the_site(
    client, world, good_rows, school_reviewer, django_capture_on_commit_callbacks
):
    client.force_login(school_reviewer)
    upload = _xlsx(good_rows)
    upload.name = "registry.xlsx"
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("reviews:registry_import"), {"file": upload})
    assert response.status_code == 302
    assert RegistryRecord.objects.filter(school=world.school_a).count() == 3
    job = client.get(response.url).context["job"]
    assert (job.status, job.rows_read, job.imported, job.error_count) == ("done", 3, 3, 0)


def test_the_import_page_is_for_school_staff_only(client, college_reviewer, student):
    url = reverse("reviews:registry_import")
    assert client.get(url).status_code == 302
    for user in (college_reviewer, student.user):
        client.force_login(user)
        assert client.get(url).status_code == 403


def test_the_admin_import(
    client, world, good_rows, platform_admin, django_capture_on_commit_callbacks
):
    client.force_login(platform_admin)
    upload = f.registry_csv(good_rows)
    upload.name = "registry.csv"
    url = reverse("admin:students_registryrecord_import")
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(url, {"school": world.school_b.pk, "file": upload})
    # school B has no college 甲一学院: every row fails, nothing is imported.
    assert response.status_code == 302
    page = client.get(response.url)
    job = page.context["job"]
    assert (job.status, job.rows_read, job.imported, job.error_count) == ("done", 3, 0, 3)
    assert "乙大学" in page.content.decode() and "甲一学院" in page.content.decode()
    assert not RegistryRecord.objects.exists()


def test_the_template_has_the_accepted_headings_with_the_contact_columns(client, school_reviewer):
    from openpyxl import load_workbook

    client.force_login(school_reviewer)
    response = client.get(reverse("reviews:registry_import_template"))
    assert response.status_code == 200
    sheet = load_workbook(io.BytesIO(response.content)).active
    headings = [cell.value for cell in sheet[1]]
    assert headings[:4] == ["学号", "姓名", "性别", "身份证号"]
    assert headings[-6:] == ["手机号", "电子邮箱", "考生号", "出生日期", "委培单位", "学习形式"]
