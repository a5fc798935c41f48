"""The optional 手机号 and 电子邮箱 columns, through every entry point, shown masked."""

import io

import pytest
from django.core.management import call_command
from django.urls import reverse
from openpyxl import Workbook

from students.importing import registry_import
from students.models import RegistryRecord
from tests import factories as f

HEADINGS = f.REGISTRY_CONTACT_HEADINGS


@pytest.fixture
def rows(world):
    return [
        f.registry_row(
            world, f"C{n}", f"联系{n}", f.new_id_number(), 手机号=f"1391234567{n}",
            电子邮箱=f"grad{n}@example.edu.cn",
        )
        for n in range(2)
    ]  # fmt: skip


def _contacts(no: str) -> tuple[str, str]:
    record = RegistryRecord.objects.get(student_no=no)
    return record.mobile, record.email


def test_the_command_imports_the_contact_columns(world, rows, tmp_path):
    path = tmp_path / "registry.csv"
    path.write_bytes(f.registry_csv(rows, headings=HEADINGS).getvalue())
    call_command("import_registry", world.school_a.code, str(path))
    assert _contacts("C0") == ("13912345670", "grad0@example.edu.cn")
    assert _contacts("C1") == ("13912345671", "grad1@example.edu.cn")


def test_the_reviewer_page_imports_the_contact_columns(
    client, world, rows, school_reviewer, django_capture_on_commit_callbacks
):
    book = Workbook()
    book.active.append(HEADINGS)
    for row in rows:
        # Excel keeps a typed-in mobile number as a number.
        book.active.append([int(row[h]) if h == "手机号" else row[h] for h in HEADINGS])
    upload = io.BytesIO()
    book.save(upload)
    upload.seek(0)
    upload.name = "registry.xlsx"
    client.force_login(school_reviewer)
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("reviews:registry_import"), {"file": upload})
    assert _contacts("C1") == ("13912345671", "grad1@example.edu.cn")


def test_the_admin_imports_the_contact_columns(
    client, world, rows, platform_admin, django_capture_on_commit_callbacks
):
    upload = f.registry_csv(rows, headings=HEADINGS)
    upload.name = "registry.csv"
    client.force_login(platform_admin)
    with django_capture_on_commit_callbacks(execute=True):
        client.post(
            reverse("admin:students_registryrecord_import"),
            {"school": world.school_a.pk, "file": upload},
        )
    assert _contacts("C0") == ("13912345670", "grad0@example.edu.cn")


def test_bad_mobile_numbers_and_addresses_are_reported_per_row(world, rows):
    rows[0]["手机号"] = "12345678901"
    rows[1]["电子邮箱"] = "not-an-address"
    report = registry_import(
        school=world.school_a,
        handle=f.registry_csv(rows, headings=HEADINGS),
        filename="x.csv",
        actor=None,
    )
    assert report.imported == 0 and not RegistryRecord.objects.exists()
    assert [e.line for e in report.errors] == [2, 3]
    assert any(m.startswith("手机号") for m in report.errors[0].messages)
    assert any(m.startswith("电子邮箱") for m in report.errors[1].messages)


def test_a_file_without_contact_columns_keeps_the_contacts_already_known(world, rows):
    registry_import(
        school=world.school_a,
        handle=f.registry_csv(rows, headings=HEADINGS),
        filename="x.csv",
        actor=None,
    )
    rows[0]["姓名"] = "改名"
    report = registry_import(
        school=world.school_a, handle=f.registry_csv(rows), filename="x.csv", actor=None
    )
    assert report.imported == 2
    assert RegistryRecord.objects.get(student_no="C0").name == "改名"
    assert _contacts("C0") == ("13912345670", "grad0@example.edu.cn")


def test_the_admin_shows_contacts_masked_only(client, world, platform_admin):
    record = f.make_record(world.major_a1, mobile="13912345678", email="pengye@example.com")
    client.force_login(platform_admin)
    listing = client.get(reverse("admin:students_registryrecord_changelist")).content.decode()
    detail = client.get(
        reverse("admin:students_registryrecord_change", args=[record.pk])
    ).content.decode()
    for page in (listing, detail):
        assert "139****5678" in page and "p*****@example.com" in page
        assert "13912345678" not in page and "pengye@example.com" not in page


def test_reviewer_pages_show_a_records_contacts_masked(client, signed, school_reviewer):
    RegistryRecord.objects.filter(pk=signed.student.record_id).update(
        mobile="13912345678", email="pengye@example.com"
    )
    client.force_login(school_reviewer)
    page = client.get(reverse("reviews:agreement", args=[signed.pk])).content.decode()
    assert "139****5678" in page and "p*****@example.com" in page
    assert "13912345678" not in page and "pengye@example.com" not in page


def test_values_too_long_for_their_column_are_row_errors(world, rows):
    rows[0]["姓名"] = "长" * 51
    rows[1]["电子邮箱"] = "a" * 250 + "@example.com"
    report = registry_import(
        school=world.school_a,
        handle=f.registry_csv(rows, headings=HEADINGS),
        filename="x.csv",
        actor=None,
        valid_only=True,
    )
    assert report.imported == 0 and [e.line for e in report.errors] == [2, 3]
    assert any("姓名" in m and "50" in m for m in report.errors[0].messages)
