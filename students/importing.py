"""Import registry records (学籍) from CSV or XLSX files.

A file is read as a stream and every row validated before anything is
written: the size is checked before reading and the file is refused as soon
as it passes ``MAX_ROWS`` rows. Then either every row is imported in one
transaction, or, when any row is invalid, nothing is (unless the caller asked
for the valid rows only). Rows are upserted by (school, 学号).

A graduate who has confirmed a record keeps its name and ID number: a row that
would change them has its other fields applied and its new identity held back
as a ``HeldRegistryChange`` for a school reviewer (students/registry_changes.py).
"""

import codecs
import csv
import io
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import IO

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _
from openpyxl import Workbook, load_workbook
from openpyxl.reader.excel import ExcelReader
from openpyxl.xml.constants import SHARED_STRINGS

from destreg.audit.models import AuditEvent
from destreg.lib.params import parse_int
from destreg.lib.pii import encrypt_id_number, id_number_digest
from destreg.lib.spreadsheets import xlsx_row
from destreg.lib.validators import validate_id_number, validate_mobile
from destreg.reference.models import Code, CodeTable, Major, Region, School
from students.home import forget_home
from students.models import Gender, HeldRegistryChange, RegistryRecord, Student

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
CONTACT_FIELDS = ("mobile", "email")
LABELS = {name: heading for heading, name in COLUMNS.items()}
MAX_ROWS = 200_000
# No value in a 学籍 row is meaningfully longer (an address would be the longest); anything
# longer is refused, and an XLSX is refused before such a cell is ever held in memory.
MAX_VALUE_LENGTH = 1000
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

    @property
    def ok(self) -> bool:
        return not self.errors


def max_bytes() -> int:
    return settings.REGISTRY_IMPORT_MAX_BYTES


def check_size(size: int) -> None:
    """Refuse a file over ``REGISTRY_IMPORT_MAX_BYTES`` (before anything reads it)."""
    if size > max_bytes():
        raise ValidationError(
            _("The file is %(size)s MB; at most %(limit)s MB can be imported at once.")
            % {
                "size": f"{size / 1024 / 1024:.1f}",
                "limit": f"{round(max_bytes() / 1024 / 1024, 1):g}",
            },
            code="too_large",
        )


def _size_of(handle: IO[bytes]) -> int:
    size = getattr(handle, "size", None)
    if isinstance(size, int):
        return size
    position = handle.tell()
    handle.seek(0, 2)
    size = handle.tell()
    handle.seek(position)
    return size


def _too_many_rows() -> ValidationError:
    return ValidationError(
        _("The file has more than %(max)d rows; split it into files of at most %(max)d rows.")
        % {"max": MAX_ROWS},
        code="too_many_rows",
    )


def read_rows(
    handle: IO[bytes], filename: str, *, encoding: str = "utf-8-sig"
) -> Iterator[dict[str, str]]:
    """Rows of a CSV or XLSX file, keyed by heading, read one at a time (blank rows skipped).

    Raises ValidationError as soon as the file passes ``MAX_ROWS`` rows, without reading
    the rest. A CSV that is not ``encoding`` raises UnicodeDecodeError part-way.
    """
    headings, rows = _open_rows(handle, filename, encoding)
    for values in rows:
        if all(value in (None, "") for value in values):
            continue
        yield _normalise(dict(zip(headings, values, strict=False)))


def count_rows(handle: IO[bytes], filename: str, *, encoding: str = "utf-8-sig") -> int:
    """The number of rows under the heading (blank ones too: they cost reading as well).

    Refuses the file with a ValidationError as soon as it passes ``MAX_ROWS``: a file
    is counted, cheaply, before any row is validated, so a huge one is refused fast.
    """
    if _is_xlsx(handle, filename):
        count = _count_xlsx_rows(handle)
    else:
        rows = _csv_values(handle, encoding)
        next(rows, None)  # the heading
        count = sum(1 for _values in _bounded(rows))
    handle.seek(0)
    return count


def _is_xlsx(handle: IO[bytes], filename: str) -> bool:
    head = handle.read(4)
    handle.seek(0)
    return head.startswith(b"PK") or filename.lower().endswith(".xlsx")


def _open_rows(handle: IO[bytes], filename: str, encoding: str) -> tuple[list[str], Iterator]:
    rows = _xlsx_values(handle) if _is_xlsx(handle, filename) else _csv_values(handle, encoding)
    first = next(rows, ())
    headings = [str(cell).strip() if cell is not None else "" for cell in first]
    return headings, _bounded(rows)


def _bounded(rows: Iterator) -> Iterator:
    for count, values in enumerate(rows, start=1):
        if count > MAX_ROWS:
            raise _too_many_rows()
        yield values


def _csv_values(handle: IO[bytes], encoding: str) -> Iterator[list[str]]:
    """The CSV's rows; a file the csv module cannot read (a field past its 128 KB limit,
    which is also what an unclosed quotation mark runs into) is refused as a whole."""
    decoder = codecs.getincrementaldecoder(encoding)()

    def lines() -> Iterator[str]:
        for chunk in handle:  # line by line
            yield decoder.decode(chunk)
        tail = decoder.decode(b"", final=True)
        if tail:
            yield tail

    reader = csv.reader(lines())
    line = 1  # where the row being read starts (a quoted value may span lines)
    try:
        for values in reader:
            line = reader.line_num + 1
            yield [value.strip() for value in values]
    except csv.Error:
        raise ValidationError(
            _(
                "The CSV file cannot be read from line %(line)d: a value there is far too long, "
                "or a quotation mark is not closed. Correct the file, then upload it again."
            )
            % {"line": line},
            code="unreadable",
        ) from None


def _open_xlsx(handle: IO[bytes]):
    try:
        return load_workbook(handle, read_only=True, data_only=True)
    except Exception as error:  # openpyxl raises many kinds for a broken file
        raise ValidationError(_("The XLSX file cannot be opened: %s") % error) from None


def _first_sheet(workbook):
    sheet = workbook.worksheets[0]
    # A sheet that declares its size (Excel always writes it) is refused before any row.
    declared = sheet.max_row
    if declared is not None and declared > MAX_ROWS + 1:
        raise _too_many_rows()
    return sheet


# A row's start tag in a worksheet's XML, whatever the namespace prefix.
_ROW_TAG = re.compile(rb"<(?:[A-Za-z_][\w.-]{0,20}:)?row[\s/>]")
_SCAN_CHUNK = 1 << 20
# The most bytes of XML from one "<" to the next: a tag and the text after it. A value of
# MAX_VALUE_LENGTH characters takes at most 10 bytes a character (written as &#x10FFFF;), so
# a longer stretch is a cell no 学籍 row has, or a tag no spreadsheet program writes.
_MAX_XML_STRETCH = 10 * MAX_VALUE_LENGTH + 2048
_LONG_STRETCH = re.compile(rb"<[^<]{%d}" % (_MAX_XML_STRETCH + 1))  # linear: anchored at "<"
# Comments, CDATA sections, a DOCTYPE (with entities that expand) and processing instructions:
# spreadsheet programs write none of them but the XML declaration at the very start, and each
# would let one cell's text be split so that no stretch looks long.
_UNUSUAL_MARKUP = re.compile(rb"<[!?]")


def _long_cell() -> ValidationError:
    return ValidationError(
        _(
            "The XLSX file has a cell longer than %(limit)d characters; no registry value is "
            "that long. Correct the file, then upload it again."
        )
        % {"limit": MAX_VALUE_LENGTH},
        code="long_value",
    )


class _XmlScan:
    """Checks a workbook part's XML as it streams past, keeping nothing but a few counters:
    no stretch between two "<" longer than ``_MAX_XML_STRETCH`` and no unusual markup."""

    def __init__(self) -> None:
        self.offset = 0  # bytes fed so far
        self.stretch = 0  # bytes since the last "<"
        self.last = b""  # the last byte fed, for markup cut in two between chunks

    def feed(self, chunk: bytes) -> None:
        data = self.last + chunk
        for match in _UNUSUAL_MARKUP.finditer(data):
            at = self.offset - len(self.last) + match.start()
            if match.group() == b"<!" or at > 3:  # <?xml …?> after at most a byte-order mark
                raise ValidationError(
                    _(
                        "The XLSX file holds XML that spreadsheet programs do not write "
                        "(comments, CDATA or a DOCTYPE). Save it again from Excel or WPS, then "
                        "upload it again."
                    ),
                    code="unusual_xml",
                )
        first, last = chunk.find(b"<"), chunk.rfind(b"<")
        if first == -1:
            self.stretch += len(chunk)
        elif self.stretch + first > _MAX_XML_STRETCH or _LONG_STRETCH.search(chunk):
            raise _long_cell()
        else:
            self.stretch = len(chunk) - last - 1
        if self.stretch > _MAX_XML_STRETCH:
            raise _long_cell()
        self.offset += len(chunk)
        self.last = chunk[-1:]


def _scan_part(archive, name: str) -> None:
    """Run a part other than the sheet through ``_XmlScan`` (the shared strings)."""
    scan = _XmlScan()
    with archive.open(name) as source:
        while chunk := source.read(_SCAN_CHUNK):
            scan.feed(chunk)


def _count_xlsx_rows(handle: IO[bytes]) -> int:
    """Count the first sheet's rows by scanning its XML for row tags (at the regex
    engine's speed, not openpyxl's), stopping as soon as the count passes the limit.

    This runs before openpyxl opens the workbook, because opening a sheet that does not
    declare its size parses the whole sheet. A compressed sheet of a million rows is
    refused after decompressing only the part that holds the first ``MAX_ROWS`` rows.
    The workbook's other parts (shared strings, other sheets) are refused when they
    unpack to more than twice the upload limit. The sheet and the shared strings are also
    refused, while they stream past, at the first cell longer than ``MAX_VALUE_LENGTH``
    (see ``_XmlScan``): openpyxl would hold a cell's whole text in memory, and a 200 MB
    string zips to 200 KB.
    """
    try:
        reader = ExcelReader(handle, read_only=True, data_only=True)
        reader.read_manifest()
        reader.read_workbook()
        targets = [
            rel.target
            for _sheet, rel in reader.parser.find_sheets()
            if rel.target in reader.valid_files and "chartsheet" not in rel.Type
        ]
        strings = reader.package.find(SHARED_STRINGS)
    except Exception as error:  # openpyxl and zipfile raise many kinds for a broken file
        raise ValidationError(_("The XLSX file cannot be opened: %s") % error) from None
    archive = reader.archive
    try:
        if not targets:
            raise ValidationError(_("The XLSX file cannot be opened: %s") % "no worksheet")
        others = sum(i.file_size for i in archive.infolist() if i.filename != targets[0])
        if others > 2 * max_bytes():
            raise ValidationError(
                _("The XLSX file unpacks to too much data; save it again with one sheet only."),
                code="too_large",
            )
        if strings is not None and strings.PartName[1:] in reader.valid_files:
            _scan_part(archive, strings.PartName[1:])
        count, tail, scan = 0, b"", _XmlScan()
        with archive.open(targets[0]) as source:
            while chunk := source.read(_SCAN_CHUNK):
                scan.feed(chunk)
                data = tail + chunk
                cut = len(data) - 32  # a tag cut in two is counted with the next chunk
                count += sum(1 for m in _ROW_TAG.finditer(data) if m.start() < cut)
                tail = data[cut:]
                if count > MAX_ROWS + 1:
                    raise _too_many_rows()
            count += len(_ROW_TAG.findall(tail))
    finally:
        archive.close()
    if count > MAX_ROWS + 1:
        raise _too_many_rows()
    return max(count - 1, 0)


def _xlsx_values(handle: IO[bytes]) -> Iterator[tuple]:
    workbook = _open_xlsx(handle)
    try:
        sheet = _first_sheet(workbook)
        # One row past the limit is enough to refuse the file; never parse further.
        yield from sheet.iter_rows(values_only=True, max_row=MAX_ROWS + 2)
    finally:
        workbook.close()


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
    mobile = row.get("mobile", "").replace(" ", "").replace("-", "")
    if mobile:
        try:
            validate_mobile(mobile)
        except ValidationError as error:
            errors.append("手机号: " + " ".join(error.messages))
        record.mobile = mobile
    email = row.get("email", "")
    if email:
        try:
            validate_email(email)
        except ValidationError as error:
            errors.append("电子邮箱: " + " ".join(error.messages))
        record.email = email
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
        holders: dict[tuple[int, str], list[tuple[int, str]]] = {}
        existing = RegistryRecord.objects.filter(
            id_number_digest__in={record.id_number_digest for record in batch}
        ).values_list("graduation_year", "id_number_digest", "school_id", "student_no")
        for year, digest, school_id, student_no in existing:
            holders.setdefault((year, digest), []).append((school_id, student_no))
        for offset, record in enumerate(batch):
            others = [
                holder
                for holder in holders.get((record.graduation_year, record.id_number_digest), [])
                if holder != (school.pk, record.student_no)
            ]
            if others:
                refused.add(start + offset)
                report.errors.append(
                    RowError(
                        lines[start + offset],
                        [
                            _(
                                "身份证号: another registry record of graduation year %(year)d "
                                "already has this ID number (at another school, or under "
                                "another 学号 at this one); a graduate has one record a year."
                            )
                            % {"year": record.graduation_year}
                        ],
                    )
                )
    if refused:
        report.valid = [r for i, r in enumerate(report.valid) if i not in refused]
        report.errors.sort(key=lambda error: error.line)


def validate_file(
    *, handle: IO[bytes], filename: str, school: School, progress: Progress | None = None
) -> ImportReport:
    """Check the size, then read and validate the file; a refused file is a line-0 error."""
    try:
        check_size(_size_of(handle))
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
    "updated_at",
]
IDENTITY_FIELDS = ("name", "id_number_cipher", "id_number_digest")
BATCH = 1000


def _forget_homes(school: School, student_nos: list[str]) -> None:
    """The upsert bypasses save(): forget the cached home pages of the graduates whose
    confirmed records it may have changed (students/home.py)."""
    for start in range(0, len(student_nos), BATCH):
        linked = Student.objects.filter(
            record__school=school, record__student_no__in=student_nos[start : start + BATCH]
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
    """Keep the name and ID number of confirmed records; hold the file's new ones back.

    Runs inside the import's transaction, before the upsert, and locks the confirmed
    records it reads. The row's other fields still apply: they do not decide who the
    graduate is. A newer file replaces a change still held for the same record.
    """
    held: list[HeldRegistryChange] = []
    by_no = {record.student_no: record for record in records}
    numbers = list(by_no)
    for start in range(0, len(numbers), BATCH):
        confirmed = (
            RegistryRecord.objects.select_for_update(of=("self",))
            .filter(
                school=school,
                student_no__in=numbers[start : start + BATCH],
                student__confirmed_at__isnull=False,
            )
            .values_list("pk", "student_no", *IDENTITY_FIELDS)
        )
        for pk, student_no, name, cipher, digest in confirmed:
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


@transaction.atomic
def registry_write(
    *, school: School, report: ImportReport, filename: str, actor, job=None
) -> ImportReport:
    """Upsert the report's valid rows in one transaction and audit the import."""
    report.held = _hold_identity_changes(
        school=school, records=report.valid, actor=actor, filename=filename, job=job
    )
    contacts = [name for name in CONTACT_FIELDS if name in report.columns]
    RegistryRecord.objects.bulk_create(
        report.valid,
        batch_size=BATCH,
        update_conflicts=True,
        unique_fields=["school", "student_no"],
        update_fields=UPSERT_FIELDS + contacts,
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
            "held": report.held,
            "failed_lines": [error.line for error in report.errors][:MAX_STORED_ERRORS],
        },
    )
    return report


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
    if (report.errors and not valid_only) or not report.valid:
        return report
    try:
        return registry_write(school=school, report=report, filename=filename, actor=actor, job=job)
    except IntegrityError:
        # Another import (or a 信息导入 approval) gave one of these ID numbers a record
        # between the validation and the write; nothing of this file was written.
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
