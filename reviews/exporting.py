"""Graduates and their destinations in the national column layout, as CSV or XLSX.

Rows are produced in chunks from a server-side cursor (``QuerySet.iterator`` on
PostgreSQL), so a million graduates never sit in memory at once, and each chunk costs
the same few queries (``export_rows``: any scope, from a college to the whole country);
``reviews.tasks.run_export`` writes them to a file in the background and records its
progress for the page that waits for it. ``benchmarks/national_export.py`` compares the
CSV export with a bare ``COPY`` of the same columns.
"""

import csv
import io
from collections.abc import Iterator
from itertools import islice
from typing import IO, NamedTuple

from django.conf import settings
from django.db.models import QuerySet
from django.db.models.functions import TruncDate
from django.utils import translation
from openpyxl import Workbook

from agreements.models import Agreement, Registration
from destreg.lib.db import any_of
from destreg.lib.spreadsheets import csv_row, csv_text_row, xlsx_row
from destreg.reference.models import Code, Major, Region
from reviews.models import SnapshotRow
from students.models import Gender, RegistryRecord, StudyForm

# (id, heading) of every column, in the file's order. The ids are stable names for other
# callers (a snapshot stores a row as {id: value}); the headings are the national layout's.
#
# The first 26 are the columns this export always had. The ones after them come from the
# national 就业方案 / 毕业去向 layout, appended in the order that layout lists them as far as
# it could be determined (the 2021+ 就业方案 template as schools circulate it: the registry
# fields 考生号 … 入学年月 after the graduate's own fields, 单位地址 after the unit's region,
# the 升学 and 留学 columns last). The official document itself was not at hand to check the
# headings word for word; each column is one id here, so a heading can be corrected alone.
COLUMN_SPEC: list[tuple[str, str]] = [
    ("student_no", "学号"),
    ("name", "姓名"),
    ("gender", "性别"),
    ("origin_region", "生源地名称"),
    ("origin_region_code", "生源地代码"),
    ("ethnicity", "民族"),
    ("political_status", "政治面貌"),
    ("urban_rural", "城乡生源"),
    ("education_level", "学历层次"),
    ("major", "专业名称"),
    ("major_code", "专业代码"),
    ("graduation_date", "毕业日期"),
    ("destination_code", "毕业去向类别代码"),
    ("destination", "毕业去向"),
    ("signed_on", "签约日期"),
    ("unit_name", "单位名称"),
    ("unit_uscc", "统一社会信用代码"),
    ("unit_nature_code", "单位性质代码"),
    ("unit_nature", "单位性质"),
    ("unit_industry_code", "单位行业代码"),
    ("unit_industry", "单位行业"),
    ("unit_region_code", "单位所在地代码"),
    ("unit_region", "单位所在地"),
    ("job_category_code", "工作职位类别代码"),
    ("job_category", "工作职位类别"),
    ("agreement_number", "协议书编号"),
    # The registry (学籍 import).
    ("candidate_no", "考生号"),
    ("birth_date", "出生日期"),
    ("study_mode_code", "培养方式代码"),
    ("study_mode", "培养方式"),
    ("sponsor_unit", "委培单位"),
    ("study_form", "学习形式"),
    ("enrolment_month", "入学年月"),
    # The unit's street address (offline and paper agreements, online signing's employer).
    ("unit_address", "单位地址"),
    # 升学 (80): the admitting institution and major in China.
    ("study_institution", "升学院校名称"),
    ("study_major", "升学专业名称"),
    # 出国出境 (85): where, and the institution and major in Chinese and in their own language.
    ("abroad_country_code", "国家或地区代码"),
    ("abroad_country", "国家或地区"),
    ("abroad_institution", "留学院校中文名称"),
    ("abroad_institution_foreign", "留学院校外文名称"),
    ("abroad_major", "留学专业中文名称"),
    ("abroad_major_foreign", "留学专业外文名称"),
]
COLUMN_IDS = [column_id for column_id, _heading in COLUMN_SPEC]
COLUMNS = [heading for _column_id, heading in COLUMN_SPEC]
CHUNK = 5000  # records a chunk: a few MB of rows, three queries


def _code(code) -> tuple[str, str]:
    return (code.code, code.name) if code is not None else ("", "")


# What the export reads of a registry record, of an approved registration and of a signed
# agreement: plain values (``values_list``), not model instances. Building a dozen related
# instances per graduate cost most of the export's time; the code tables, regions and majors
# they point to are looked up in ``_Lookups`` instead.
RECORD_FIELDS = (
    "student_no", "name", "gender", "origin_region_id", "ethnicity_id", "political_status_id",
    "urban_rural_id", "education_level_id", "major_id", "graduation_date", "destination_id",
    "candidate_no", "birth_date", "study_mode_id", "sponsor_unit", "study_form",
    "enrolment_date", "student__id",
)  # fmt: skip
STUDENT = RECORD_FIELDS.index("student__id")
# 签约日期: the day of the signing in the current time zone (timezone.localdate), computed by
# the database: converting each timestamp in Python cost more than writing the whole row.
SIGNED_ON = TruncDate("signed_at")
AGREEMENT_FIELDS = (
    "student_id", SIGNED_ON, "unit_name", "unit_uscc", "number", "job_category_id",
    "employer__name", "employer__uscc", "employer__nature_id", "employer__industry_id",
    "employer__region_id", "employer__address",
)  # fmt: skip
REGISTRATION_FIELDS = (
    "student_id", SIGNED_ON, "unit_name", "unit_uscc", "number", "job_category_id",
    "org_name", "org_uscc", "institution", "unit_nature_id", "unit_industry_id",
    "unit_region_id", "unit_address", "kind", "program", "institution_foreign",
    "program_foreign", "country_id", "country_legacy",
)  # fmt: skip


class _Lookups:
    """The code tables and regions (small, loaded once per export) and the majors met so far
    (one query per chunk for the new ones): what the rows' ids point to."""

    def __init__(self) -> None:
        self.codes = {code.pk: code for code in Code.objects.all()}
        self.pairs: dict[int | None, tuple[str, str]] = {None: ("", "")}
        self.pairs.update((pk, _code(code)) for pk, code in self.codes.items())
        self.regions = dict(Region.objects.values_list("code", "full_name"))
        self.majors: dict[int, tuple[str, str]] = {}
        # str(code) is its name in the active language (Code.display_name).
        self.shown = {pk: str(code) for pk, code in self.codes.items()}
        self.genders = {value: str(label) for value, label in Gender.choices}
        self.study_forms = {value: str(label) for value, label in StudyForm.choices}

    def load_majors(self, ids: set[int]) -> None:
        missing = ids - self.majors.keys()
        if missing:
            for pk, name, code in Major.objects.filter(any_of("pk", missing)).values_list(
                "pk", "name", "code"
            ):
                self.majors[pk] = (name, code)

    def code(self, pk: int | None) -> tuple[str, str]:
        """(code, name) of a code table entry, or two empty columns."""
        return self.pairs[pk]

    def region(self, code: str | None) -> tuple[str, str]:
        return (code, self.regions[code]) if code else ("", "")


def _agreement_row(a: tuple, lookups: _Lookups) -> list[str]:
    """签约日期 … 协议书编号, then 单位地址 and the empty 升学/留学 columns, of a signing:
    the unit's name and code as the agreement was made with it."""
    (_student, signed_on, unit_name, unit_uscc, number, job, e_name, e_uscc, nature, industry,
     region, address) = a  # fmt: skip
    return [
        signed_on.isoformat() if signed_on else "",
        unit_name or e_name,
        unit_uscc or e_uscc,
        *lookups.code(nature),
        *lookups.code(industry),
        *lookups.region(region),
        *lookups.code(job),
        number or "",
        address,
        *[""] * 8,
    ]


def _registration_row(g: tuple, lookups: _Lookups) -> list[str]:
    """The same columns of an approved registration (filled for its destination type)."""
    (_student, signed_on, unit_name, unit_uscc, number, job, org_name, org_uscc, institution,
     nature, industry, region, address, kind, program, institution_foreign, program_foreign,
     country_id, country_legacy) = g  # fmt: skip
    further = kind == "further_study"
    abroad = kind == "study_abroad"
    country = lookups.codes[country_id] if country_id is not None else None
    return [
        signed_on.isoformat() if signed_on else "",
        unit_name or org_name or institution,
        unit_uscc or org_uscc,
        *lookups.code(nature),
        *lookups.code(industry),
        *lookups.region(region),
        *lookups.code(job),
        number or "",
        address,
        institution if further else "",
        program if further else "",
        country.code if abroad and country else "",
        (country.name if country else country_legacy) if abroad else "",
        institution if abroad else "",
        institution_foreign if abroad else "",
        program if abroad else "",
        program_foreign if abroad else "",
    ]


NO_SOURCE = [""] * 21  # 签约日期 … 协议书编号 (12), 单位地址 and the 升学/留学 columns (9)


def _source_rows(student_ids: list[int], lookups: _Lookups) -> dict[int, list[str]]:
    """签约日期 … 协议书编号 and 单位地址 … 留学专业外文名称 of each student's approved
    destination source (two queries per chunk)."""
    found: dict[int, list[str]] = {}
    if not student_ids:
        return found
    registrations = Registration.objects.filter(
        any_of("student_id", student_ids), status=Registration.Status.APPROVED
    ).values_list(*REGISTRATION_FIELDS)
    for g in registrations:
        found[g[0]] = _registration_row(g, lookups)
    agreements = Agreement.objects.filter(
        any_of("student_id", student_ids), status=Agreement.Status.SIGNED
    ).values_list(*AGREEMENT_FIELDS)
    for a in agreements:
        found[a[0]] = _agreement_row(a, lookups)  # a signing outranks anything it replaced
    return found


def _export_chunks(records: QuerySet[RegistryRecord], *extra: str) -> Iterator[list[tuple]]:
    """Chunks of the records' ``RECORD_FIELDS`` values (then ``extra``), in the export's
    order, from one server-side cursor (on PostgreSQL)."""
    values = records.order_by("school_id", "student_no").values_list(*RECORD_FIELDS, *extra)
    iterator = values.iterator(chunk_size=CHUNK)
    while chunk := list(islice(iterator, CHUNK)):
        yield chunk


def _chunk_rows(chunk: list[tuple], lookups: _Lookups) -> list[list[str]]:
    """The export row of each record of ``chunk`` (a few queries for the whole chunk)."""
    lookups.load_majors({r[8] for r in chunk})
    sources = _source_rows([r[STUDENT] for r in chunk if r[STUDENT] is not None], lookups)
    shown, majors, regions, pairs = lookups.shown, lookups.majors, lookups.regions, lookups.pairs
    out = []
    for r in chunk:
        (student_no, name, gender, origin, ethnicity, political, urban_rural, level, major,
         graduated, destination, candidate_no, born, study_mode, sponsor, study_form,
         enrolled, student) = r[: len(RECORD_FIELDS)]  # fmt: skip
        major_name, major_code = majors[major]
        source = sources.get(student, NO_SOURCE)
        out.append(
            [
                student_no,
                name,
                lookups.genders.get(gender, str(gender)),
                regions[origin],
                origin,
                shown[ethnicity],
                shown[political],
                shown[urban_rural] if urban_rural is not None else "",
                shown[level],
                major_name,
                major_code,
                graduated.isoformat(),
                *pairs[destination],
                *source[:12],
                candidate_no,
                born.isoformat() if born else "",
                *pairs[study_mode],
                sponsor,
                lookups.study_forms.get(study_form, study_form) if study_form else "",
                enrolled.strftime("%Y-%m") if enrolled else "",
                *source[12:],
            ]
        )
    return out


def export_rows(records: QuerySet[RegistryRecord]) -> Iterator[list[str]]:
    """The national export's rows (``COLUMN_SPEC``) of ``records``, at any scope: a
    college's, a school's, a province's or the whole country's graduates.

    The records stream from a server-side cursor in chunks of ``CHUNK``; each chunk costs
    a fixed few queries (the approved agreements and registrations, new majors), so memory
    and queries per row stay flat however many records there are. Values are written as
    stored; code names in the active language (the export writes under the default one).
    """
    lookups = _Lookups()
    for chunk in _export_chunks(records):
        yield from _chunk_rows(chunk, lookups)


def approved_sources(student_ids: list[int]) -> dict[int, Agreement | Registration]:
    """The approved destination source of each student (two queries per chunk)."""
    found: dict[int, Agreement | Registration] = {}
    for registration in Registration.objects.filter(
        student_id__in=student_ids, status=Registration.Status.APPROVED
    ).select_related("unit_nature", "unit_industry", "unit_region", "job_category", "country"):
        found[registration.student_id] = registration
    for agreement in Agreement.objects.filter(
        student_id__in=student_ids, status=Agreement.Status.SIGNED
    ).select_related("employer__nature", "employer__industry", "employer__region", "job_category"):
        found[agreement.student_id] = agreement  # a signing outranks anything it replaced
    return found


def rows(records: QuerySet) -> Iterator[list[str]]:
    """The export's rows of live registry records, or of a snapshot's rows (as they
    stood; a column the snapshot predates is empty)."""
    if records.model is SnapshotRow:
        exports = records.order_by("student_no", "pk").values_list("export", flat=True)
        for export in exports.iterator(chunk_size=CHUNK):
            yield [export.get(column, "") for column in COLUMNS]
        return
    yield from export_rows(records)


def row_dict(row: list[str]) -> dict[str, str]:
    """A row keyed by column heading, as a snapshot stores it."""
    return dict(zip(COLUMNS, row, strict=True))


class ExportedRecord(NamedTuple):
    """What callers of ``record_rows`` need of a record beside its row (a snapshot's keys)."""

    pk: int
    student_no: str
    name: str
    college_id: int
    major_id: int
    education_level_id: int
    gender: int
    destination_id: int | None
    destination_code: str


def record_rows(records: QuerySet[RegistryRecord]) -> Iterator[tuple[ExportedRecord, list[str]]]:
    """Each record's keys with its export row, in chunks (a few queries per CHUNK records)."""
    lookups = _Lookups()
    for chunk in _export_chunks(records, "pk", "college_id"):
        for r, row in zip(chunk, _chunk_rows(chunk, lookups), strict=True):
            pk, college_id = r[len(RECORD_FIELDS) :]
            yield (
                ExportedRecord(
                    pk=pk,
                    student_no=r[0],
                    name=r[1],
                    college_id=college_id,
                    major_id=r[8],
                    education_level_id=r[7],
                    gender=r[2],
                    destination_id=r[10],
                    destination_code=row[12],
                ),
                row,
            )


def row_dicts(records: QuerySet[RegistryRecord]) -> Iterator[dict[str, str]]:
    """The same rows keyed by column id (``COLUMN_IDS``)."""
    for row in rows(records):
        yield dict(zip(COLUMN_IDS, row, strict=True))


def write_csv(records: QuerySet[RegistryRecord], handle: IO[bytes], progress) -> None:
    """UTF-8 with a BOM, so Excel shows the Chinese correctly."""
    text = io.TextIOWrapper(handle, encoding="utf-8-sig", newline="")
    writer = csv.writer(text)
    writer.writerow(csv_row(COLUMNS))
    with translation.override(settings.LANGUAGE_CODE):  # the layout is Chinese
        for n, row in enumerate(rows(records), start=1):
            writer.writerow(csv_text_row(row))  # text typed by users never becomes a formula
            if n % CHUNK == 0:
                progress(n)
    text.flush()
    text.detach()


def write_xlsx(records: QuerySet[RegistryRecord], handle: IO[bytes], progress) -> None:
    """Written row by row (write-only mode), so memory stays flat."""
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet("毕业去向")
    sheet.append(xlsx_row(sheet, COLUMNS))
    with translation.override(settings.LANGUAGE_CODE):  # the layout is Chinese
        for n, row in enumerate(rows(records), start=1):
            sheet.append(xlsx_row(sheet, row))  # text typed by users never becomes a formula
            if n % CHUNK == 0:
                progress(n)
    workbook.save(handle)
