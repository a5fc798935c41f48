"""Import registry records (学籍) from CSV or XLSX files.

A file is read completely and every row validated before anything is
written. Then either every row is imported in one transaction, or, when any
row is invalid, nothing is (unless the caller asked for the valid rows only).
Rows are upserted by (school, 学号).
"""

import csv
import io
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import IO

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _
from openpyxl import Workbook, load_workbook

from destreg.audit.models import AuditEvent
from destreg.lib.params import parse_int
from destreg.lib.pii import encrypt_id_number, id_number_digest
from destreg.lib.spreadsheets import xlsx_row
from destreg.lib.validators import validate_id_number
from destreg.reference.models import Code, CodeTable, Major, Region, School
from students.home import forget_home
from students.models import Gender, RegistryRecord, Student

# Column headings accepted in a file, mapped to our field names.
COLUMNS = {
    "学号": "student_no",
    "姓名": "name",
    "性别": "gender",
    "身份证号": "id_number",
    "民族": "ethnicity",
    "政治面貌": "political_status",
    "院系": "college",
    "专业代码": "major_code",
    "学历层次": "education_level",
    "培养方式": "study_mode",
    "入学日期": "enrolment_date",
    "毕业日期": "graduation_date",
    "毕业年份": "graduation_year",
    "生源地代码": "origin_region",
    "城乡生源": "urban_rural",
}
REQUIRED = (
    "student_no",
    "name",
    "gender",
    "id_number",
    "ethnicity",
    "political_status",
    "college",
    "major_code",
    "education_level",
    "graduation_date",
    "origin_region",
)
MAX_ROWS = 200_000


def template_workbook() -> bytes:
    """An empty XLSX with the accepted headings, for staff to fill in."""
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = "学籍"
    sheet.append(xlsx_row(sheet, COLUMNS))
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


@dataclass
class RowError:
    line: int
    messages: list[str]


@dataclass
class ImportReport:
    total: int = 0
    imported: int = 0
    errors: list[RowError] = field(default_factory=list)
    valid: list[RegistryRecord] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors


def read_rows(handle: IO[bytes], filename: str) -> list[dict[str, str]]:
    """Rows of a CSV (UTF-8 or GB18030, as Excel saves it) or XLSX file, keyed by heading."""
    head = handle.read(4)
    handle.seek(0)
    if head.startswith(b"PK") or filename.lower().endswith(".xlsx"):
        return _read_xlsx(handle)
    raw = handle.read()
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            text = raw.decode(encoding)
            break
        except UnicodeDecodeError:
            continue
    else:
        raise ValidationError(_("The file is neither UTF-8 nor GB18030 text."))
    return [_normalise(row) for row in csv.DictReader(io.StringIO(text))]


def _read_xlsx(handle: IO[bytes]) -> list[dict[str, str]]:
    try:
        workbook = load_workbook(handle, read_only=True, data_only=True)
    except Exception as error:  # openpyxl raises many kinds for a broken file
        raise ValidationError(_("The XLSX file cannot be opened: %s") % error) from None
    sheet = workbook.worksheets[0]
    rows = sheet.iter_rows(values_only=True)
    headings = [str(cell).strip() if cell is not None else "" for cell in next(rows, ())]
    result = []
    for values in rows:
        if all(value in (None, "") for value in values):
            continue
        result.append(_normalise(dict(zip(headings, values, strict=False))))
    workbook.close()
    return result


def _normalise(row: dict) -> dict[str, str]:
    out = {}
    for heading, value in row.items():
        key = COLUMNS.get((heading or "").strip(), (heading or "").strip())
        if isinstance(value, datetime):
            value = value.date().isoformat()
        elif isinstance(value, date):
            value = value.isoformat()
        elif isinstance(value, float) and value.is_integer():
            value = str(int(value))
        out[key] = "" if value is None else str(value).strip()
    return out


class _Lookups:
    """Everything a row refers to, loaded once per file instead of once per row."""

    def __init__(self, school: School):
        self.codes: dict[tuple[str, str], Code] = {}
        for code in Code.objects.filter(active=True):
            self.codes[(code.table, code.code)] = code
            self.codes.setdefault((code.table, code.name), code)
        colleges = list(school.colleges.all())
        self.colleges = {c.code: c for c in colleges} | {c.name: c for c in colleges}
        self.majors = {
            (m.college_id, m.code, m.education_level_id): m
            for m in Major.objects.filter(college__school=school)
        }
        self.regions = set(Region.objects.values_list("code", flat=True))

    def code(self, table: str, value: str) -> Code | None:
        return self.codes.get((table, value))


_GENDERS = {"1": Gender.MALE, "男": Gender.MALE, "2": Gender.FEMALE, "女": Gender.FEMALE}


def _parse_date(value: str) -> date:
    return date.fromisoformat(value.replace("/", "-").replace(".", "-")[:10])


def _validate_row(row: dict[str, str], school: School, lookups: _Lookups) -> RegistryRecord:
    errors: list[str] = []

    def need(name: str, label: str) -> str:
        value = row.get(name, "")
        if not value and name in REQUIRED:
            errors.append(_("%(column)s is missing.") % {"column": label})
        return value

    def coded(table: str, name: str, label: str) -> Code | None:
        value = need(name, label)
        if not value:
            return None
        code = lookups.code(table, value)
        if code is None:
            errors.append(
                _("%(column)s: unknown value “%(value)s”.") % {"column": label, "value": value}
            )
        return code

    record = RegistryRecord(
        school=school, student_no=need("student_no", "学号"), name=need("name", "姓名")
    )
    gender = need("gender", "性别")
    if gender and gender not in _GENDERS:
        errors.append(_("性别 must be 男 or 女."))
    record.gender = _GENDERS.get(gender, 0)
    id_number = need("id_number", "身份证号")
    if id_number:
        try:
            id_number = validate_id_number(id_number)
            record.id_number_cipher = encrypt_id_number(id_number)
            record.id_number_digest = id_number_digest(id_number)
        except ValidationError as error:
            errors.append("身份证号: " + " ".join(error.messages))
    record.ethnicity = coded(CodeTable.ETHNICITY, "ethnicity", "民族")  # type: ignore[assignment]
    record.political_status = coded(CodeTable.POLITICAL_STATUS, "political_status", "政治面貌")  # type: ignore[assignment]
    record.education_level = coded(CodeTable.EDUCATION_LEVEL, "education_level", "学历层次")  # type: ignore[assignment]
    record.study_mode = coded(CodeTable.STUDY_MODE, "study_mode", "培养方式")
    record.urban_rural = coded(CodeTable.URBAN_RURAL, "urban_rural", "城乡生源")
    college_value = need("college", "院系")
    college = lookups.colleges.get(college_value)
    if college_value and college is None:
        errors.append(_("院系: no college “%(value)s” at this school.") % {"value": college_value})
    major_code = need("major_code", "专业代码")
    if college and major_code and record.education_level:
        major = lookups.majors.get((college.pk, major_code, record.education_level.pk))
        if major is None:
            errors.append(
                _("专业代码: no major %(code)s at this level in %(college)s.")
                % {"code": major_code, "college": college.name}
            )
        else:
            record.major = major
    if college:
        record.college = college
    for name, label in (("graduation_date", "毕业日期"), ("enrolment_date", "入学日期")):
        value = need(name, label)
        if value:
            try:
                setattr(record, name, _parse_date(value))
            except ValueError:
                errors.append(
                    _("%(column)s: “%(value)s” is not a date (YYYY-MM-DD).")
                    % {"column": label, "value": value}
                )
    year = row.get("graduation_year", "")
    if year:
        number = parse_int(year, max_digits=4)  # '２０２６' or '²' is not a year either
        if number is not None and 2000 <= number <= 2100:
            record.graduation_year = number
        else:
            errors.append(_("毕业年份: “%(value)s” is not a year.") % {"value": year})
    elif record.graduation_date:
        record.graduation_year = record.graduation_date.year
    region = need("origin_region", "生源地代码")
    if region and region not in lookups.regions:
        errors.append(_("生源地代码: unknown region code “%(value)s”.") % {"value": region})
    elif region:
        record.origin_region_id = region
    if errors:
        raise ValidationError(errors)
    return record


def validate_rows(rows: list[dict[str, str]], school: School) -> ImportReport:
    report = ImportReport(total=len(rows))
    if len(rows) > MAX_ROWS:
        report.errors.append(RowError(0, [_("At most %d rows per file.") % MAX_ROWS]))
        return report
    lookups = _Lookups(school)
    seen: dict[str, int] = {}
    for index, row in enumerate(rows):
        line = index + 2  # heading is line 1
        try:
            record = _validate_row(row, school, lookups)
        except ValidationError as error:
            report.errors.append(RowError(line, error.messages))
            continue
        if record.student_no in seen:
            report.errors.append(
                RowError(
                    line,
                    [
                        _("学号 %(no)s already appears on line %(line)d.")
                        % {"no": record.student_no, "line": seen[record.student_no]}
                    ],
                )
            )
            continue
        seen[record.student_no] = line
        report.valid.append(record)
    return report


UPSERT_FIELDS = [
    "name",
    "gender",
    "id_number_cipher",
    "id_number_digest",
    "ethnicity",
    "political_status",
    "college",
    "major",
    "education_level",
    "study_mode",
    "enrolment_date",
    "graduation_date",
    "graduation_year",
    "origin_region",
    "urban_rural",
    "updated_at",
]


def _forget_homes(school: School, student_nos: list[str], batch: int = 1000) -> None:
    """The upsert bypasses save(): forget the cached home pages of the graduates whose
    confirmed records it may have changed (students/home.py)."""
    for start in range(0, len(student_nos), batch):
        linked = Student.objects.filter(
            record__school=school, record__student_no__in=student_nos[start : start + batch]
        )
        forget_home(*linked.values_list("pk", flat=True))


@transaction.atomic
def registry_import(
    *, school: School, handle: IO[bytes], filename: str, actor, valid_only: bool = False
) -> ImportReport:
    """Validate the whole file, then upsert all rows, or the valid ones if ``valid_only``."""
    try:
        rows = read_rows(handle, filename)
    except ValidationError as error:
        return ImportReport(errors=[RowError(0, error.messages)])
    report = validate_rows(rows, school)
    if report.errors and not valid_only:
        return report
    RegistryRecord.objects.bulk_create(
        report.valid,
        batch_size=1000,
        update_conflicts=True,
        unique_fields=["school", "student_no"],
        update_fields=UPSERT_FIELDS,
    )
    _forget_homes(school, [record.student_no for record in report.valid])
    report.imported = len(report.valid)
    AuditEvent.record(
        school,
        actor=actor,
        action="registry_import",
        changes={
            "file": filename,
            "rows": report.total,
            "imported": report.imported,
            "failed_lines": [error.line for error in report.errors],
        },
    )
    return report
