"""The annual 就业质量年度报告 as a PDF: the rows read from the live data, the charts laid
out, the document rendered, and the background job that does all three.

``render_annual_pdf`` is pure: figures in, PDF bytes out, no request. The job
(``annual_report_now``, queued by ``reviews.services.annual_report_start``) reads the rows,
computes the figures (reviews/annual.py), renders and stores the file, recording its
progress for the page that waits for it.
"""

import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from itertools import islice

from django.conf import settings
from django.core.files import File
from django.template.loader import render_to_string
from django.utils import timezone, translation
from weasyprint import HTML

from agreements.models import Agreement, Registration
from destreg.lib.replica import reads_from_replica
from destreg.reference.models import Code, College, Region, School
from reviews.annual import (
    ABROAD,
    FORMULA_VERSION,
    FURTHER_STUDY,
    Figures,
    GraduateRow,
    Rate,
    Share,
    figures,
    is_placed,
)
from reviews.exporting import CHUNK, COLUMN_IDS, COLUMNS, approved_sources
from reviews.models import AnnualReport, Snapshot
from reviews.stats import PLACED_CODES
from students.models import Gender, RegistryRecord

Progress = Callable[[int], None]


def _ignore(done: int) -> None:
    pass


# --- the rows, from the live data -------------------------------------------------------------


def _province_names() -> dict[str, str]:
    return dict(Region.objects.filter(level=Region.Level.PROVINCE).values_list("code", "name"))


def _unit(source: Agreement | Registration | None, provinces: dict[str, str]) -> dict:
    """The unit's province, industry and nature, the institution and the monthly pay of the
    approved destination (blank without one)."""
    if source is None:
        return {}
    region: Region | None
    if isinstance(source, Agreement):
        employer = source.employer
        region, industry, nature = employer.region, employer.industry, employer.nature
        institution, pay = "", source.salary
    else:
        region, industry, nature = source.unit_region, source.unit_industry, source.unit_nature
        institution = source.institution
        # Only the agreements (paths 二 and 三) agree a pay; path 四 states none.
        pay = source.salary if source.path != Registration.Path.OTHER else None
    return {
        "unit_province": provinces.get(region.code[:2] + "0000", "") if region else "",
        "industry": industry.name if industry else "",
        "nature": nature.name if nature else "",
        "institution": institution.strip(),
        "monthly_pay": pay,
    }


def live_rows(school: School, year: int, progress: Progress = _ignore) -> list[GraduateRow]:
    """One row per graduate of ``school``'s class of ``year``, from the registry records and
    the approved agreements and registrations as they are now (the export's sources,
    reviews/exporting.py). ``progress`` hears how many records were read, every chunk."""
    provinces = _province_names()
    records = (
        RegistryRecord.objects.filter(school=school, graduation_year=year)
        .select_related("college", "major", "education_level", "destination__parent", "student")
        .order_by("pk")
    )
    rows: list[GraduateRow] = []
    iterator: Iterator[RegistryRecord] = records.iterator(chunk_size=CHUNK)
    while chunk := list(islice(iterator, CHUNK)):
        ids = [r.student.pk for r in chunk if hasattr(r, "student")]
        sources = approved_sources(ids)
        for record in chunk:
            student = getattr(record, "student", None)
            destination = record.destination
            top = destination.parent or destination if destination else None
            rows.append(
                GraduateRow(
                    college=record.college.name,
                    major=record.major.name,
                    level=record.education_level.name,
                    level_code=record.education_level.code,
                    gender=record.gender,
                    destination_code=top.code if top else "",
                    destination_name=top.name if top else "",
                    placed=bool(top and is_placed(top.code)),
                    **_unit(sources.get(student.pk) if student else None, provinces),
                )
            )
        progress(len(rows))
    return rows


def snapshot_rows(snapshot: Snapshot, progress: Progress = _ignore) -> list[GraduateRow]:
    """One row per graduate as the snapshot froze them at its cut-off: its rows' national
    export values (the unit's place, industry and nature, the institution of 升学 and 出国) and
    the pay agreed in the agreement each row names by its number (a signed agreement's terms
    never change). Colleges, majors and levels are named as they are named today."""
    provinces = _province_names()
    colleges = dict(College.objects.filter(school_id=snapshot.school_id).values_list("pk", "name"))
    codes = {c.pk: c for c in Code.objects.filter(table__in=["education_level", "destination"])}
    column = dict(zip(COLUMN_IDS, COLUMNS, strict=True))
    rows: list[GraduateRow] = []
    frozen = snapshot.rows.order_by("pk")
    iterator = frozen.iterator(chunk_size=CHUNK)
    while chunk := list(islice(iterator, CHUNK)):
        pay = _agreed_pay({r.export.get(column["agreement_number"], "") for r in chunk} - {""})
        for row in chunk:
            values = row.export
            level = codes.get(row.education_level_id)
            destination = codes.get(row.destination_id) if row.destination_id else None
            top = (codes.get(destination.parent_id or 0) or destination) if destination else None
            code = top.code if top else ""
            region = values.get(column["unit_region_code"], "")
            institution = {
                "80": values.get(column["study_institution"], ""),
                "85": values.get(column["abroad_institution"], ""),
            }.get(code, "")
            if code in ("80", "85") and not institution:  # a snapshot older than the columns
                institution = values.get(column["unit_name"], "")
            rows.append(
                GraduateRow(
                    college=colleges.get(row.college_id, ""),
                    major=values.get(column["major"], ""),
                    level=level.name if level else values.get(column["education_level"], ""),
                    level_code=level.code if level else "",
                    gender=row.gender,
                    destination_code=code,
                    destination_name=top.name if top else "",
                    placed=row.placed,
                    unit_province=provinces.get(region[:2] + "0000", "") if region else "",
                    industry=values.get(column["unit_industry"], ""),
                    nature=values.get(column["unit_nature"], ""),
                    institution=institution.strip(),
                    monthly_pay=pay.get(values.get(column["agreement_number"], "")),
                )
            )
        progress(len(rows))
    return rows


def _agreed_pay(numbers: set[str]) -> dict[str, int | None]:
    """The monthly pay each agreement number agreed (online, offline and paper agreements)."""
    pay: dict[str, int | None] = {}
    registrations = Registration.objects.filter(number__in=numbers).exclude(
        path=Registration.Path.OTHER
    )
    for agreements in (registrations, Agreement.objects.filter(number__in=numbers)):
        for number, salary in agreements.order_by().values_list("number", "salary"):
            pay[str(number)] = salary
    return pay


# --- the charts: horizontal bars, laid out here, drawn by the template --------------------------


@dataclass(frozen=True)
class Bar:
    y: float  # the bar's top
    label: str
    width: float
    value: str
    text_y: float  # the baseline of the label and the value
    value_x: float


@dataclass(frozen=True)
class Bars:
    """A horizontal bar chart in SVG user units (one unit is one point on the page)."""

    width: int
    height: int
    label_right: int  # bars start here
    label_x: int  # labels end here
    bars: list[Bar]
    more: int  # rows in the table but not in the chart


CHART_WIDTH = 250
LABEL_WIDTH = 92
VALUE_WIDTH = 40
ROW_HEIGHT = 15
MAX_BARS = 15
LABEL_CHARS = 10


def _short(label: str) -> str:
    return label if len(label) <= LABEL_CHARS else label[: LABEL_CHARS - 1] + "…"


def bars(items: list[tuple[str, float, str]], *, scale: float | None = None) -> Bars:
    """Bars for (label, value, value as printed); the longest is full width unless
    ``scale`` (the value of a full bar, e.g. 100 for a rate) is given."""
    shown = items[:MAX_BARS]
    full = scale or max((value for _, value, _ in shown), default=0) or 1
    plot = CHART_WIDTH - LABEL_WIDTH - VALUE_WIDTH
    laid_out = []
    for n, (label, value, printed) in enumerate(shown):
        top = 4 + n * ROW_HEIGHT
        width = round(plot * value / full, 1)
        laid_out.append(Bar(top, _short(label), width, printed, top + 8.5, LABEL_WIDTH + width + 3))
    return Bars(
        width=CHART_WIDTH,
        height=ROW_HEIGHT * len(shown) + 6,
        label_right=LABEL_WIDTH,
        label_x=LABEL_WIDTH - 4,
        bars=laid_out,
        more=len(items) - len(shown),
    )


def rate_bars(rates: list[Rate]) -> Bars:
    return bars([(r.label, r.percent, f"{r.percent}%") for r in rates], scale=100)


def share_bars(shares: list[Share]) -> Bars:
    return bars([(s.label or "未登记", s.count, f"{s.percent}%") for s in shares])


# --- the document ----------------------------------------------------------------------------


def _gendered(rates: list[Rate]) -> list[Rate]:
    return [Rate(str(Gender(int(r.label)).label), r.total, r.placed) for r in rates]


def context(school: School, year: int, as_of: str, data: Figures) -> dict:
    by_gender = _gendered(data.by_gender)
    structure = [
        Share(s.label or "未登记去向", s.count, s.of) for s in data.structure
    ]  # the reader's words for a graduate without a destination
    sections = [
        ("rate", "按学院", data.by_college, rate_bars(data.by_college)),
        ("rate", "按专业", data.by_major, rate_bars(data.by_major)),
        ("rate", "按学历层次", data.by_level, rate_bars(data.by_level)),
        ("rate", "按性别", by_gender, rate_bars(by_gender)),
    ]
    return {
        "school": school,
        "year": year,
        "as_of": as_of,
        "figures": data,
        "formula_version": FORMULA_VERSION,
        "placed_codes": "、".join(PLACED_CODES),
        "further_study_code": FURTHER_STUDY,
        "abroad_code": ABROAD,
        "rate_sections": sections,
        "structure": structure,
        "structure_bars": share_bars(structure),
        "provinces_bars": share_bars(data.provinces),
        "industries_bars": share_bars(data.industries),
        "natures_bars": share_bars(data.natures),
        "further_bars": share_bars(data.further_study),
        "abroad_bars": share_bars(data.abroad),
        "pay_bars": bars([(p.label or "全部", p.median, f"{p.median:.0f}") for p in data.pay]),
        "generated_at": timezone.localtime(),
    }


def render_annual_pdf(
    school: School, year: int, as_of: str, data: Figures, *, snapshot: bool = False
) -> bytes:
    """The report's PDF, in Chinese whatever the language of whoever asked for it;
    ``snapshot``: the figures are as of a reporting snapshot (``as_of``, its cut-off)."""
    with translation.override(settings.LANGUAGE_CODE):
        page = context(school, year, as_of, data) | {"from_snapshot": snapshot}
        html = render_to_string("reviews/pdf/annual_report.html", page)
    return HTML(string=html, base_url=str(settings.BASE_DIR)).write_pdf()


# --- the background job ------------------------------------------------------------------------

# The share of the progress bar each step takes: reading the rows is most of the work on a
# large school, the rendering the rest.
READ_UNTIL, RENDER_FROM = 70, 80


def annual_report_now(report_id: int) -> None:
    """Read, compute, render and store the report, recording progress; a failure is
    recorded too (and raised, for the task's log)."""
    report = AnnualReport.objects.select_related("school").get(pk=report_id)
    jobs = AnnualReport.objects.filter(pk=report_id)
    snapshot = report.snapshot
    if snapshot is not None:
        total = snapshot.rows.count()
        as_of = f"{snapshot.cutoff:%Y-%m-%d}"  # the cut-off the snapshot froze
    else:
        total = RegistryRecord.objects.filter(
            school=report.school, graduation_year=report.year
        ).count()
        as_of = f"{timezone.localtime():%Y-%m-%d %H:%M}"  # when the live data was read
    jobs.update(status=AnnualReport.Status.RUNNING, progress=0, as_of=as_of)

    def reading(done: int) -> None:
        jobs.update(progress=min(READ_UNTIL, READ_UNTIL * done // max(total, 1)))

    try:
        with reads_from_replica():  # the progress updates still go to the primary
            if snapshot is not None:
                rows = snapshot_rows(snapshot, reading)
            else:
                rows = live_rows(report.school, report.year, reading)
        data = figures(rows)
        jobs.update(progress=RENDER_FROM)
        pdf = render_annual_pdf(
            report.school, report.year, as_of, data, snapshot=snapshot is not None
        )
        with tempfile.TemporaryFile() as handle:
            handle.write(pdf)
            handle.seek(0)
            name = f"annual-report-{report.school.code}-{report.year}-{report.pk}.pdf"
            report.file.save(name, File(handle), save=False)
    except Exception:
        jobs.update(status=AnnualReport.Status.FAILED)
        raise
    jobs.update(
        file=report.file.name,
        status=AnnualReport.Status.DONE,
        progress=100,
        finished_at=timezone.now(),
    )
