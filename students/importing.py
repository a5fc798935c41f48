"""Import registry records (学籍) from CSV or XLSX files.

A file is read as a stream (students/import_files.py: its size checked before
reading, refused as soon as it passes ``MAX_ROWS`` rows) and every row
validated before anything is written. Then either every row is imported in one
transaction, or, when any row is invalid, nothing is (unless the caller asked
for the valid rows only). Rows are upserted by (school, 学号).

A record linked to a graduate's account (confirmed, or waiting to be confirmed again
after a corrected identity) keeps its name and ID number: a row that would change them
has its other fields applied and its new identity held back as a ``HeldRegistryChange``
for a school reviewer (students/registry_changes.py).
"""

import io
import re
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import IO

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _
from openpyxl import Workbook
from stdnum.cn import ric

from destreg.audit.changes import record_event
from destreg.audit.models import AuditAction
from destreg.lib.db import any_of
from destreg.lib.params import parse_int
from destreg.lib.pii import encrypt_id_number, id_number_digest
from destreg.lib.spreadsheets import xlsx_row
from destreg.lib.validators import validate_id_number, validate_mobile
from destreg.reference.models import Code, CodeTable, Major, Region, School
from students.conflicts import Claim, conflict_open
from students.home import forget_home
from students.import_files import MAX_VALUE_LENGTH, check_size, count_rows, open_rows, size_of
from students.models import (
    Gender,
    HeldRegistryChange,
    RegistryConflict,
    RegistryRecord,
    Student,
    StudyForm,
)
from students.tallies import keys_of, tally_move

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
    "手机号": "mobile",
    "电子邮箱": "email",
    "考生号": "candidate_no",
    "出生日期": "birth_date",
    "委培单位": "sponsor_unit",
    "学习形式": "study_form",
}
# Other headings for the same field: the national layout's name for it.
ALIASES = {"入学年月": "enrolment_date"}
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
CONTACT_FIELDS = ("mobile", "email")
# Columns added after files were first imported: a file without one leaves its stored values
# alone, like the contacts (the birth date is always written: without its column it is
# read from the ID number).
LATER_FIELDS = ("candidate_no", "sponsor_unit", "study_form")
CANDIDATE_NO = re.compile(r"^[0-9A-Za-z]{1,20}$")
# 入学年月: a month, written 2022-09, 2022/9, 2022.09 or 202209.
YEAR_MONTH = re.compile(r"^(\d{4})(?:[-/.](\d{1,2})|(\d{2}))$")
_STUDY_FORMS = {
    "全日制": StudyForm.FULL_TIME,
    "非全日制": StudyForm.PART_TIME,
    StudyForm.FULL_TIME.value: StudyForm.FULL_TIME,
    StudyForm.PART_TIME.value: StudyForm.PART_TIME,
}
LABELS = {name: heading for heading, name in COLUMNS.items()}
# Control characters (NUL, line breaks, C1 controls …) belong in no value: PostgreSQL refuses
# NUL in text, so a single one would fail the whole import; the others garble pages and exports.
CONTROL_CHARACTERS = re.compile(r"[\x00-\x1f\x7f-\x9f]")
PROGRESS_EVERY = 1000  # rows between two progress reports
MAX_STORED_ERRORS = 1000  # rows whose problems a background job keeps for its page

Progress = Callable[[int], None]


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
    held: int = 0
    errors: list[RowError] = field(default_factory=list)
    valid: list[RegistryRecord] = field(default_factory=list)
    # The fields the file has a column for (contacts are only replaced when it has theirs).
    columns: set[str] = field(default_factory=set)
    # Rows refused because ANOTHER school's record of that year has the ID number: each
    # opens a case for the platform admin (students/conflicts.py), even if nothing imports.
    claims: list[Claim] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors


def read_rows(
    handle: IO[bytes], filename: str, *, encoding: str = "utf-8-sig"
) -> Iterator[dict[str, str]]:
    """Rows of a CSV or XLSX file, keyed by heading, read one at a time (blank rows skipped).

    Raises ValidationError as soon as the file passes ``MAX_ROWS`` rows, without reading
    the rest. A CSV that is not ``encoding`` raises UnicodeDecodeError part-way.
    """
    headings, rows = open_rows(handle, filename, encoding)
    for values in rows:
        if all(value in (None, "") for value in values):
            continue
        yield _normalise(dict(zip(headings, values, strict=False)))


def _normalise(row: dict) -> dict[str, str]:
    out = {}
    for heading, value in row.items():
        heading = (heading or "").strip()
        key = COLUMNS.get(heading) or ALIASES.get(heading, heading)
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


def _parse_month_or_date(value: str) -> date:
    """A date, or a month (入学年月) as its first day."""
    match = YEAR_MONTH.match(value)
    if match:
        return date(int(match.group(1)), int(match.group(2) or match.group(3)), 1)
    return _parse_date(value)


def _label(name: str) -> str:
    """A column's heading for a message: ours, or the file's own made safe to show and store."""
    return LABELS.get(name) or CONTROL_CHARACTERS.sub("?", name)[:50] or _("an unnamed column")


def _unusable_values(row: dict[str, str]) -> list[str]:
    """Problems with values that no column can hold: control characters, excessive length.

    The values themselves are not repeated: they cannot be stored (not even in the job's list
    of problems) and would not be readable.
    """
    errors = []
    for name, value in row.items():
        if CONTROL_CHARACTERS.search(value):
            errors.append(
                _("%(column)s contains a control character (such as NUL or a line break).")
                % {"column": _label(name)}
            )
        elif len(value) > MAX_VALUE_LENGTH:
            errors.append(
                _("%(column)s: at most %(limit)d characters.")
                % {"column": _label(name), "limit": MAX_VALUE_LENGTH}
            )
    return errors


def _validate_row(row: dict[str, str], school: School, lookups: _Lookups) -> RegistryRecord:
    unusable = _unusable_values(row)
    if unusable:  # checked first: other messages quote the values
        raise ValidationError(unusable)
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
    # Too long for the column: refused here, not by the database halfway through the file.
    for name, label, limit in (
        ("student_no", "学号", 30),
        ("name", "姓名", 50),
        ("email", "电子邮箱", 254),
        ("sponsor_unit", "委培单位", 100),
    ):
        if len(row.get(name, "")) > limit:
            errors.append(
                _("%(column)s: at most %(limit)d characters.") % {"column": label, "limit": limit}
            )
    gender = need("gender", "性别")
    if gender and gender not in _GENDERS:
        errors.append(_("性别 must be 男 or 女."))
    record.gender = _GENDERS.get(gender, 0)
    id_number = need("id_number", "身份证号")
    born_by_id = None
    if id_number:
        try:
            id_number = validate_id_number(id_number)
            record.id_number_cipher = encrypt_id_number(id_number)
            record.id_number_digest = id_number_digest(id_number)
            born_by_id = ric.get_birth_date(id_number)
        except ValidationError as error:
            errors.append("身份证号: " + " ".join(error.messages))
    birth = row.get("birth_date", "")
    record.birth_date = born_by_id
    if birth:
        try:
            record.birth_date = _parse_date(birth)
        except ValueError:
            errors.append(
                _("%(column)s: “%(value)s” is not a date (YYYY-MM-DD).")
                % {"column": "出生日期", "value": birth}
            )
        else:
            if born_by_id and record.birth_date != born_by_id:
                errors.append(_("出生日期 differs from the birth date in the 身份证号."))
    candidate_no = row.get("candidate_no", "")
    if candidate_no and not CANDIDATE_NO.match(candidate_no):
        errors.append(_("考生号: letters and digits only, at most 20."))
    record.candidate_no = candidate_no
    record.sponsor_unit = row.get("sponsor_unit", "")
    study_form = row.get("study_form", "")
    if study_form and study_form not in _STUDY_FORMS:
        errors.append(_("学习形式 must be 全日制 or 非全日制."))
    record.study_form = _STUDY_FORMS.get(study_form, "")
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
                parse = _parse_month_or_date if name == "enrolment_date" else _parse_date
                setattr(record, name, parse(value))
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
    mobile = row.get("mobile", "").replace(" ", "").replace("-", "")
    for name, label, value, validate in (
        ("mobile", "手机号", mobile, validate_mobile),
        ("email", "电子邮箱", row.get("email", ""), validate_email),
    ):
        if value:
            try:
                validate(value)
            except ValidationError as error:
                errors.append(f"{label}: " + " ".join(error.messages))
            setattr(record, name, value)
    if errors:
        raise ValidationError(errors)
    return record


def validate_rows(
    rows: Iterable[dict[str, str]], school: School, progress: Progress | None = None
) -> ImportReport:
    """Validate rows as they are read; ``progress(rows_read)`` is called every few rows.

    Raises ValidationError when the file itself is refused (too many rows, unreadable).
    """
    report = ImportReport()
    lookups = _Lookups(school)
    seen: dict[str, int] = {}
    seen_ids: dict[tuple[int, str], int] = {}
    lines: list[int] = []  # the line of each valid record
    for index, row in enumerate(rows):
        line = index + 2  # heading is line 1
        report.total = index + 1
        if index == 0:
            report.columns = set(row)
        if progress and report.total % PROGRESS_EVERY == 0:
            progress(report.total)
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
        identity = (record.graduation_year, record.id_number_digest)
        if identity in seen_ids:
            report.errors.append(
                RowError(
                    line,
                    [
                        _("身份证号: the same ID number already appears on line %(line)d.")
                        % {"line": seen_ids[identity]}
                    ],
                )
            )
            continue
        seen_ids[identity] = line
        report.valid.append(record)
        lines.append(line)
    _refuse_id_numbers_of_other_records(report, lines, school)
    if progress:
        progress(report.total)
    return report


def _refuse_id_numbers_of_other_records(
    report: ImportReport, lines: list[int], school: School
) -> None:
    """Move to the errors every valid row whose ID number another record of its graduation
    year already has (at another school, or under another 学号 here).

    A graduate has one record a year (``one_record_per_id_number_and_year``): a second one,
    with contacts of the importer's choosing, would let whoever made it confirm the
    graduate's identity. Which school has the number is not said: that is not the
    importer's to know.
    """
    refused: set[int] = set()
    for start in range(0, len(report.valid), BATCH):
        batch = report.valid[start : start + BATCH]
        holders: dict[tuple[int, str], list[tuple[int, str, int]]] = {}
        existing = RegistryRecord.objects.filter(
            any_of("id_number_digest", {record.id_number_digest for record in batch})
        ).values_list("graduation_year", "id_number_digest", "school_id", "student_no", "pk")
        for year, digest, school_id, student_no, pk in existing:
            holders.setdefault((year, digest), []).append((school_id, student_no, pk))
        for offset, record in enumerate(batch):
            others = [
                holder
                for holder in holders.get((record.graduation_year, record.id_number_digest), [])
                if holder[:2] != (school.pk, record.student_no)
            ]
            if others:
                refused.add(start + offset)
                claims = [
                    Claim(pk, record.graduation_year, record.id_number_digest)
                    for school_id, _no, pk in others
                    if school_id != school.pk
                ]
                report.claims.extend(claims)
                messages = [
                    _(
                        "身份证号: another registry record of graduation year %(year)d "
                        "already has this ID number (at another school, or under "
                        "another 学号 at this one); a graduate has one record a year."
                    )
                    % {"year": record.graduation_year}
                ]
                if claims:
                    messages.append(
                        _(
                            "The platform administrator has been told and checks with both "
                            "schools; the other record cannot be confirmed meanwhile."
                        )
                    )
                report.errors.append(RowError(lines[start + offset], messages))
    if refused:
        report.valid = [r for i, r in enumerate(report.valid) if i not in refused]
        report.errors.sort(key=lambda error: error.line)


def validate_file(
    *, handle: IO[bytes], filename: str, school: School, progress: Progress | None = None
) -> ImportReport:
    """Check the size, then read and validate the file; a refused file is a line-0 error."""
    try:
        check_size(size_of(handle))
        for encoding in ("utf-8-sig", "gb18030"):  # Excel in China saves CSV as GB18030
            handle.seek(0)
            try:
                count_rows(handle, filename, encoding=encoding)
            except UnicodeDecodeError:
                continue
            rows = read_rows(handle, filename, encoding=encoding)
            return validate_rows(rows, school, progress)
        raise ValidationError(_("The file is neither UTF-8 nor GB18030 text."))
    except ValidationError as error:
        return ImportReport(errors=[RowError(0, error.messages)])


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
    "birth_date",
    "updated_at",
]
IDENTITY_FIELDS = ("name", "id_number_cipher", "id_number_digest")
BATCH = 1000


def _forget_homes(school: School, student_nos: list[str]) -> None:
    """The upsert bypasses save(): forget the cached home pages of the graduates whose
    confirmed records it may have changed (students/home.py)."""
    for start in range(0, len(student_nos), BATCH):
        linked = Student.objects.filter(
            any_of("record__student_no", student_nos[start : start + BATCH]),
            record__school=school,
        )
        forget_home(*linked.values_list("pk", flat=True))


def _code_of(value) -> str:
    return "" if value is None else str(getattr(value, "code", value))


def _other_values(record: RegistryRecord) -> dict[str, str]:
    """What else the row said, readable on the held-back page (contacts left out)."""
    return {
        "gender": str(record.gender),
        "ethnicity": _code_of(record.ethnicity),
        "political_status": _code_of(record.political_status),
        "college": record.college.name if record.college_id else "",
        "major": _code_of(record.major) if record.major_id else "",
        "education_level": _code_of(record.education_level),
        "study_mode": _code_of(record.study_mode),
        "enrolment_date": record.enrolment_date.isoformat() if record.enrolment_date else "",
        "graduation_date": record.graduation_date.isoformat() if record.graduation_date else "",
        "graduation_year": str(record.graduation_year or ""),
        "origin_region": record.origin_region_id or "",
        "urban_rural": _code_of(record.urban_rural),
    }


def _hold_identity_changes(
    *, school: School, records: list[RegistryRecord], actor, filename: str, job=None
) -> int:
    """Keep the name and ID number of records linked to an account; hold the file's new
    ones back. The account copies the record's identity (students/registry_changes.py),
    so a linked record whose account is waiting to confirm again is held back too.

    Runs inside the import's transaction, before the upsert, and locks the linked
    records it reads. The row's other fields still apply: they do not decide who the
    graduate is. A newer file replaces a change still held for the same record.
    """
    held: list[HeldRegistryChange] = []
    by_no = {record.student_no: record for record in records}
    numbers = list(by_no)
    for start in range(0, len(numbers), BATCH):
        linked = (
            RegistryRecord.objects.select_for_update(of=("self",))
            .filter(
                any_of("student_no", numbers[start : start + BATCH]),
                school=school,
                student__isnull=False,
            )
            .values_list("pk", "student_no", *IDENTITY_FIELDS)
        )
        for pk, student_no, name, cipher, digest in linked:
            record = by_no[student_no]
            if record.name == name and record.id_number_digest == digest:
                continue
            held.append(
                HeldRegistryChange(
                    record_id=pk,
                    name=record.name,
                    id_number_cipher=record.id_number_cipher,
                    id_number_digest=record.id_number_digest,
                    values=_other_values(record),
                    job=job,
                    filename=filename[:255],
                    imported_by=actor,
                )
            )
            record.name, record.id_number_cipher, record.id_number_digest = name, cipher, digest
    if held:
        HeldRegistryChange.objects.filter(
            record_id__in=[change.record_id for change in held],
            status=HeldRegistryChange.Status.PENDING,
        ).delete()
        HeldRegistryChange.objects.bulk_create(held, batch_size=BATCH)
    return len(held)


def _tally_keys(school: School, numbers: list[str], *, lock: bool = False) -> Counter:
    """The counted keys of the school's records with these student numbers."""
    keys: Counter = Counter()
    for start in range(0, len(numbers), BATCH):
        records = RegistryRecord.objects.filter(
            any_of("student_no", numbers[start : start + BATCH]), school=school
        )
        keys.update(keys_of(records.select_for_update(of=("self",)) if lock else records))
    return keys


def _upsert_records(report: ImportReport) -> None:
    """The import's one write of registry records: insert new 学号, update the others (the
    contacts and later columns only when the file has their column). Whatever must stay in
    step with the records (counters, caches) is updated by ``registry_write`` beside it."""
    contacts = [name for name in (*CONTACT_FIELDS, *LATER_FIELDS) if name in report.columns]
    RegistryRecord.objects.bulk_create(
        report.valid,
        batch_size=BATCH,
        update_conflicts=True,
        unique_fields=["school", "student_no"],
        update_fields=UPSERT_FIELDS + contacts,
    )


@transaction.atomic
def registry_write(
    *, school: School, report: ImportReport, filename: str, actor, job=None
) -> ImportReport:
    """Upsert the report's valid rows in one transaction and audit the import."""
    report.held = _hold_identity_changes(
        school=school, records=report.valid, actor=actor, filename=filename, job=job
    )
    numbers = [record.student_no for record in report.valid]
    before = _tally_keys(school, numbers, lock=True)
    _upsert_records(report)
    # One grouped delta for the whole file: the records' keys before and after the upsert.
    tally_move(before, _tally_keys(school, numbers))
    _forget_homes(school, [record.student_no for record in report.valid])
    report.imported = len(report.valid)
    record_event(
        school,
        by=actor,
        action=AuditAction.REGISTRY_IMPORT,
        changes={
            "file": filename,
            "rows": report.total,
            "imported": report.imported,
            "held": report.held,
            "failed_lines": [error.line for error in report.errors][:MAX_STORED_ERRORS],
        },
    )
    return report


def _open_conflicts(report: ImportReport, *, school: School, actor, filename: str, job) -> None:
    if report.claims:
        conflict_open(
            claims=report.claims,
            school=school,
            actor=actor,
            source=RegistryConflict.Source.IMPORT,
            filename=filename,
            job=job,
        )


def registry_import(
    *,
    school: School,
    handle: IO[bytes],
    filename: str,
    actor,
    valid_only: bool = False,
    progress: Progress | None = None,
    job=None,
) -> ImportReport:
    """Validate the whole file, then upsert all rows, or the valid ones if ``valid_only``.

    Reading and validating happen outside any transaction (so ``progress`` can be seen
    by others); the writing is one transaction: all rows or none.
    """
    report = validate_file(handle=handle, filename=filename, school=school, progress=progress)
    # Written whatever becomes of the file: the claim is evidence.
    _open_conflicts(report, school=school, actor=actor, filename=filename, job=job)
    if (report.errors and not valid_only) or not report.valid:
        return report
    try:
        return registry_write(school=school, report=report, filename=filename, actor=actor, job=job)
    except IntegrityError:
        # Another import (or a 信息导入 approval) gave one of these ID numbers a record
        # between the validation and the write; nothing of this file was written. If that
        # was another school, it is a case like any other.
        recheck = ImportReport(valid=list(report.valid))
        _refuse_id_numbers_of_other_records(recheck, [0] * len(recheck.valid), school)
        _open_conflicts(recheck, school=school, actor=actor, filename=filename, job=job)
        report.errors.insert(
            0,
            RowError(
                0,
                [
                    _(
                        "The registry changed while the file was being checked; nothing was "
                        "imported. Import the file again."
                    )
                ],
            ),
        )
        report.valid = []
        return report
