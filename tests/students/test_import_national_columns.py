"""The registry columns the national export carries: 考生号, 出生日期, 入学年月, 委培单位,
学习形式 (培养方式 and 入学日期 were read before)."""

import io
from datetime import date

import pytest
from django.utils import translation
from openpyxl import Workbook

from students.importing import registry_import, template_workbook
from students.models import RegistryRecord, StudyForm
from tests import factories as f

NEW = ["考生号", "出生日期", "入学年月", "培养方式", "委培单位", "学习形式"]
HEADINGS = [*f.REGISTRY_HEADINGS, *NEW]


def _import(world, rows, headings=HEADINGS, filename="x.csv"):
    return registry_import(
        school=world.school_a,
        handle=f.registry_csv(rows, headings=headings),
        filename=filename,
        actor=None,
    )


def _row(world, no="N1", **values):
    id_number = f.new_id_number()
    born = date(int(id_number[6:10]), int(id_number[10:12]), int(id_number[12:14]))
    row = f.registry_row(
        world, no, "全国", id_number, 考生号="26110108150123", 出生日期=born.isoformat(),
        入学年月="2022-09", 培养方式="3", 委培单位="示例委培单位", 学习形式="全日制",
    )  # fmt: skip
    return row | values, born


def test_the_new_columns_are_stored(world):
    row, born = _row(world)
    report = _import(world, [row])
    assert report.ok, report.errors
    record = RegistryRecord.objects.get(student_no="N1")
    assert record.candidate_no == "26110108150123"
    assert record.birth_date == born
    assert record.enrolment_date == date(2022, 9, 1)
    assert record.study_mode.name == "委培"
    assert record.sponsor_unit == "示例委培单位"
    assert record.study_form == StudyForm.FULL_TIME


def test_an_xlsx_with_the_new_columns_is_read_too(world):
    row, _born = _row(world, 学习形式="非全日制", 入学年月="202109")
    book = Workbook()
    book.active.append(HEADINGS)
    book.active.append([row.get(h, "") for h in HEADINGS])
    upload = io.BytesIO()
    book.save(upload)
    upload.seek(0)
    report = registry_import(school=world.school_a, handle=upload, filename="x.xlsx", actor=None)
    assert report.ok, report.errors
    record = RegistryRecord.objects.get(student_no="N1")
    assert (record.study_form, record.enrolment_date) == (StudyForm.PART_TIME, date(2021, 9, 1))


def test_an_old_file_without_them_still_imports_and_keeps_what_is_known(world):
    row, born = _row(world)
    assert _import(world, [row]).ok
    old = {h: row[h] for h in f.REGISTRY_HEADINGS} | {"姓名": "全国改"}
    report = _import(world, [old], headings=f.REGISTRY_HEADINGS)
    assert report.ok, report.errors
    record = RegistryRecord.objects.get(student_no="N1")
    assert record.name == "全国改"
    assert (record.candidate_no, record.sponsor_unit, record.study_form) == (
        "26110108150123",
        "示例委培单位",
        StudyForm.FULL_TIME,
    )
    assert record.birth_date == born


def test_without_a_birth_date_column_it_is_read_from_the_id_number(world):
    row, born = _row(world)
    report = _import(world, [row], headings=f.REGISTRY_HEADINGS)
    assert report.ok
    assert RegistryRecord.objects.get(student_no="N1").birth_date == born


@pytest.mark.parametrize(
    ("column", "value", "message"),
    [
        ("考生号", "26-1101", "考生号"),
        ("考生号", "1" * 21, "考生号"),
        ("出生日期", "1999-02-30", "出生日期"),
        ("出生日期", "1990-01-01", "出生日期 differs"),
        ("入学年月", "2022-13", "入学日期"),
        ("学习形式", "函授", "学习形式"),
        ("委培单位", "委" * 101, "委培单位"),
    ],
)
def test_a_bad_value_is_that_rows_error(world, column, value, message):
    row, _born = _row(world, **{column: value})
    with translation.override("en"):
        report = _import(world, [row])
    assert not report.ok
    assert report.errors[0].line == 2
    assert any(message in text for text in report.errors[0].messages), report.errors
    assert not RegistryRecord.objects.filter(student_no="N1").exists()


def test_the_template_offers_the_new_columns():
    from openpyxl import load_workbook

    sheet = load_workbook(io.BytesIO(template_workbook())).active
    headings = [cell.value for cell in next(sheet.rows)]
    for heading in ("考生号", "出生日期", "委培单位", "学习形式", "培养方式", "入学日期"):
        assert heading in headings
