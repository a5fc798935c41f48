"""Reading a batch file (CSV in UTF-8 with or without BOM or GB18030, or XLSX) and writing
the template and the per-row result file.

The reading reuses the 学籍 import's guarded reader (students/import_files.py: XLSX parts
scanned before openpyxl builds anything, rows counted cheaply first); the limits here are
smaller: ``MAX_BYTES`` and ``MAX_ROWS``.
"""

import csv
import io
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import IO, Any, cast

from django.core.exceptions import ValidationError
from django.db.models import Field
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from openpyxl import Workbook

from agreements.models import Invitation
from destreg.lib.spreadsheets import csv_row, xlsx_row
from destreg.lib.validators import validate_id_number
from students.import_files import count_rows, open_rows, size_of

MAX_BYTES = 2 * 1024 * 1024
MAX_ROWS = 2000

NAME, ID_NUMBER = "姓名", "身份证号"
# Optional per-row terms: heading -> Invitation field. An empty cell keeps the template's.
TERM_COLUMNS = {"岗位名称": "position", "工作地点": "work_location", "转正后月薪": "salary"}
HEADINGS = [NAME, ID_NUMBER, *TERM_COLUMNS]
RESULT_HEADINGS = [
    gettext_lazy("Row"),
    gettext_lazy("Name"),
    gettext_lazy("ID number"),
    gettext_lazy("Preview"),
    gettext_lazy("Result"),
    gettext_lazy("Why not sent"),
]


@dataclass
class ParsedRow:
    line: int  # the row's number in the spreadsheet (the heading is row 1)
    name: str
    id_number: str  # the compact number when valid, else ""
    overrides: dict[str, Any] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, datetime | date):
        value = value.isoformat()[:10]
    return str(value).strip()


def _check_headings(headings: list[str]) -> dict[str, int]:
    where = {heading: i for i, heading in enumerate(headings) if heading}
    missing = [heading for heading in (NAME, ID_NUMBER) if heading not in where]
    unknown = [heading for heading in where if heading not in HEADINGS]
    problems = []
    if missing:
        problems.append(
            _("The first row must have the headings %(headings)s; missing: %(missing)s.")
            % {"headings": "、".join((NAME, ID_NUMBER)), "missing": "、".join(missing)}
        )
    if unknown:
        problems.append(
            _("Unknown headings: %(unknown)s. Allowed: %(allowed)s.")
            % {"unknown": "、".join(unknown), "allowed": "、".join(HEADINGS)}
        )
    if problems:
        raise ValidationError(problems, code="headings")
    return where


def _row(line: int, values: list, where: dict[str, int]) -> ParsedRow:
    def cell(heading: str) -> str:
        i = where.get(heading)
        return _text(values[i]) if i is not None and i < len(values) else ""

    row = ParsedRow(line=line, name=cell(NAME), id_number="")
    if not row.name:
        row.problems.append(_("The name is empty."))
    elif len(row.name) > 50:
        row.problems.append(_("The name is longer than 50 characters."))
        row.name = row.name[:50]
    raw_id = cell(ID_NUMBER)
    if not raw_id:
        row.problems.append(_("The ID number is empty."))
    else:
        try:
            row.id_number = validate_id_number(raw_id)
        except ValidationError as error:
            row.problems.extend(error.messages)
    for heading, name in TERM_COLUMNS.items():
        text = cell(heading)
        if not text:
            continue
        model_field = cast(Field, Invitation._meta.get_field(name))
        try:
            value: Any = text
            if name == "salary":
                if not (text.isascii() and text.isdigit()):  # int() refuses "²"
                    raise ValidationError(_("Write the salary as a whole number of yuan."))
                value = int(text)
            row.overrides[name] = model_field.clean(value, None)
        except ValidationError as error:
            row.problems.extend(f"{heading}: {message}" for message in error.messages)
    return row


def read_batch_file(handle: IO[bytes], filename: str) -> list[ParsedRow]:
    """The file's rows (blank ones skipped), each with its format problems.

    Raises ValidationError for a file that cannot be used at all: too large, too many
    rows, unreadable, or without the 姓名 and 身份证号 headings.
    """
    size = size_of(handle)
    if size > MAX_BYTES:
        raise ValidationError(
            _("The file is %(size)s MB; a batch file can be at most %(limit)d MB.")
            % {"size": f"{size / 1024 / 1024:.1f}", "limit": MAX_BYTES // 1024 // 1024},
            code="too_large",
        )
    for encoding in ("utf-8-sig", "gb18030"):  # Excel in China saves CSV as GB18030
        handle.seek(0)
        try:
            if count_rows(handle, filename, encoding=encoding) > MAX_ROWS:
                raise ValidationError(
                    _("The file has more than %(max)d rows; split it into smaller files.")
                    % {"max": MAX_ROWS},
                    code="too_many_rows",
                )
            headings, values = open_rows(handle, filename, encoding)
            where = _check_headings(headings)
            rows = [
                _row(line, list(row), where)
                for line, row in enumerate(values, start=2)
                if any(_text(value) for value in row)
            ]
        except UnicodeDecodeError:
            continue
        if not rows:
            raise ValidationError(_("The file has no rows under the headings."), code="empty")
        return rows
    raise ValidationError(_("The file is neither UTF-8 nor GB18030 text."), code="encoding")


def template_csv() -> bytes:
    """The empty file to fill in: the headings only (with a BOM, so Excel reads UTF-8)."""
    out = io.StringIO()
    csv.writer(out).writerow(HEADINGS)
    return out.getvalue().encode("utf-8-sig")


def result_csv(rows: Iterable[list[Any]]) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow([str(heading) for heading in RESULT_HEADINGS])
    for row in rows:
        writer.writerow(csv_row(row))
    return out.getvalue().encode("utf-8-sig")


def result_xlsx(rows: Iterable[list[Any]]) -> bytes:
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet()
    sheet.append([str(heading) for heading in RESULT_HEADINGS])
    for row in rows:
        sheet.append(xlsx_row(sheet, row))
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()
