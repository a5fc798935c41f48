"""Graduates and their destinations in the national column layout, as CSV or XLSX.

Rows are produced in chunks from a server-side iterator, so 100,000 graduates
never sit in memory at once; ``reviews.tasks.run_export`` writes them to a file
in the background and records its progress for the page that waits for it.
"""

import csv
import io
from collections.abc import Iterator
from itertools import islice
from typing import IO

from django.conf import settings
from django.db.models import QuerySet
from django.utils import timezone, translation
from openpyxl import Workbook

from agreements.models import Agreement, Registration
from destreg.lib.spreadsheets import csv_row, xlsx_row
from reviews.models import SnapshotRow
from students.models import RegistryRecord

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
CHUNK = 2000


def _code(code) -> tuple[str, str]:
    return (code.code, code.name) if code is not None else ("", "")


def _unit_row(source) -> list[str]:
    """签约日期 … 协议书编号 from the approved agreement or registration, if any."""
    if source is None:
        return [""] * 12
    if isinstance(source, Agreement):
        e = source.employer  # its name and code as the agreement was made with it
        name, uscc = source.unit_name or e.name, source.unit_uscc or e.uscc
        nature, industry, region = e.nature, e.industry, e.region
    else:
        name = source.unit_name or source.org_name or source.institution
        uscc = source.unit_uscc or source.org_uscc
        nature, industry, region = source.unit_nature, source.unit_industry, source.unit_region
    job = _code(source.job_category)
    return [
        timezone.localdate(source.signed_at).isoformat() if source.signed_at else "",
        name,
        uscc,
        *_code(nature),
        *_code(industry),
        region.code if region else "",
        region.full_name if region else "",
        *job,
        source.number or "",
    ]


def _registry_row(r: RegistryRecord) -> list[str]:
    """考生号 … 入学年月."""
    return [
        r.candidate_no,
        r.birth_date.isoformat() if r.birth_date else "",
        *_code(r.study_mode),
        r.sponsor_unit,
        str(r.get_study_form_display()) if r.study_form else "",
        r.enrolment_date.strftime("%Y-%m") if r.enrolment_date else "",
    ]


def _study_row(source) -> list[str]:
    """单位地址, then the 升学 and 留学 columns (filled for those destination types only)."""
    if source is None:
        return [""] * 9
    if isinstance(source, Agreement):
        return [source.employer.address, *[""] * 8]
    further = source.kind == "further_study"
    abroad = source.kind == "study_abroad"
    country = source.country
    return [
        source.unit_address,
        source.institution if further else "",
        source.program if further else "",
        country.code if abroad and country else "",
        (country.name if country else source.country_legacy) if abroad else "",
        source.institution if abroad else "",
        source.institution_foreign if abroad else "",
        source.program if abroad else "",
        source.program_foreign if abroad else "",
    ]


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
    for _record, row in record_rows(records):
        yield row


def row_dict(row: list[str]) -> dict[str, str]:
    """A row keyed by column heading, as a snapshot stores it."""
    return dict(zip(COLUMNS, row, strict=True))


def record_rows(records: QuerySet[RegistryRecord]) -> Iterator[tuple[RegistryRecord, list[str]]]:
    """Each record with its export row, in chunks (a few queries per CHUNK records)."""
    records = records.select_related(
        "origin_region",
        "ethnicity",
        "political_status",
        "urban_rural",
        "education_level",
        "study_mode",
        "major",
        "destination",
        "student",
    ).order_by("school_id", "student_no")
    iterator = records.iterator(chunk_size=CHUNK)
    while chunk := list(islice(iterator, CHUNK)):
        ids = [r.student.pk for r in chunk if hasattr(r, "student")]
        sources = approved_sources(ids)
        for r in chunk:
            student = getattr(r, "student", None)
            source = sources.get(student.pk) if student else None
            yield (
                r,
                [
                    r.student_no,
                    r.name,
                    str(r.get_gender_display()),
                    r.origin_region.full_name,
                    r.origin_region.code,
                    str(r.ethnicity),
                    str(r.political_status),
                    str(r.urban_rural or ""),
                    str(r.education_level),
                    r.major.name,
                    r.major.code,
                    r.graduation_date.isoformat(),
                    *_code(r.destination),
                    *_unit_row(source),
                    *_registry_row(r),
                    *_study_row(source),
                ],
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
            writer.writerow(csv_row(row))  # text typed by users never becomes a formula
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
