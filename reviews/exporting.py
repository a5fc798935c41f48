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

COLUMNS = [
    "学号",
    "姓名",
    "性别",
    "生源地名称",
    "生源地代码",
    "民族",
    "政治面貌",
    "城乡生源",
    "学历层次",
    "专业名称",
    "专业代码",
    "毕业日期",
    "毕业去向类别代码",
    "毕业去向",
    "签约日期",
    "单位名称",
    "统一社会信用代码",
    "单位性质代码",
    "单位性质",
    "单位行业代码",
    "单位行业",
    "单位所在地代码",
    "单位所在地",
    "工作职位类别代码",
    "工作职位类别",
    "协议书编号",
]
CHUNK = 2000


def _code(code) -> tuple[str, str]:
    return (code.code, code.name) if code is not None else ("", "")


def _unit_row(source) -> list[str]:
    """单位名称 … 协议书编号 from the approved agreement or registration, if any."""
    if source is None:
        return [""] * 12
    if isinstance(source, Agreement):
        e = source.employer
        name, uscc, nature, industry, region = e.name, e.uscc, e.nature, e.industry, e.region
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


def approved_sources(student_ids: list[int]) -> dict[int, Agreement | Registration]:
    """The approved destination source of each student (two queries per chunk)."""
    found: dict[int, Agreement | Registration] = {}
    for registration in Registration.objects.filter(
        student_id__in=student_ids, status=Registration.Status.APPROVED
    ).select_related("unit_nature", "unit_industry", "unit_region", "job_category"):
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
                ],
            )


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
