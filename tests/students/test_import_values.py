"""What a registry file's values may hold: no control characters, nothing absurdly long.

A value that cannot be stored is that row's error; a file that cannot be read at all (a CSV
field past the csv module's limit, an XLSX cell of megabytes) is refused as a whole, with a
reason on the job's page, and an XLSX is refused before openpyxl holds such a cell.
"""

import io
import tracemalloc
import zipfile

import pytest
from django.urls import reverse
from django.utils import translation
from openpyxl import Workbook

from students import import_files
from students.import_files import MAX_VALUE_LENGTH
from students.importing import registry_import
from students.models import RegistryRecord
from tests import factories as f


@pytest.fixture
def good_rows(world):
    return [f.registry_row(world, f"A{n}", f"学生{n}", f.new_id_number()) for n in range(2)]


def _import(world, handle, filename="x.csv", **kwargs):
    with translation.override("zh-hans"):
        return registry_import(
            school=world.school_a, handle=handle, filename=filename, actor=None, **kwargs
        )


def _xlsx(rows, headings=f.REGISTRY_HEADINGS) -> io.BytesIO:
    book = Workbook()
    sheet = book.active
    sheet.append(headings)
    for row in rows:
        sheet.append([row.get(h, "") for h in headings])
    out = io.BytesIO()
    book.save(out)
    out.seek(0)
    return out


def _with_sheet(sheet_xml: bytes, *, strings: bytes | None = None) -> io.BytesIO:
    """A real workbook whose first sheet (and shared strings) are replaced by the given XML."""
    source = zipfile.ZipFile(_xlsx([]))  # openpyxl writes no shared strings: add them
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for item in source.infolist():
            data = source.read(item)
            if item.filename == "xl/worksheets/sheet1.xml":
                data = sheet_xml
            elif item.filename == "[Content_Types].xml" and strings is not None:
                data = data.replace(
                    b"</Types>",
                    b'<Override PartName="/xl/sharedStrings.xml" ContentType="application/vnd.'
                    b'openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"/></Types>',
                )
            elif item.filename == "xl/_rels/workbook.xml.rels" and strings is not None:
                data = data.replace(
                    b"</Relationships>",
                    b'<Relationship Id="rIdStrings" Type="http://schemas.openxmlformats.org/'
                    b'officeDocument/2006/relationships/sharedStrings" Target="sharedStrings.xml"'
                    b"/></Relationships>",
                )
            archive.writestr(item.filename, data)
        if strings is not None:
            archive.writestr("xl/sharedStrings.xml", strings)
    out.seek(0)
    return out


_NS = b'xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"'


def _sheet(*cells: bytes) -> bytes:
    """A sheet with the usual headings and one row of inline-string cells."""
    headings = b"".join(
        b'<c t="inlineStr"><is><t>' + h.encode() + b"</t></is></c>" for h in f.REGISTRY_HEADINGS
    )
    row = b"".join(b'<c t="inlineStr"><is><t>' + cell + b"</t></is></c>" for cell in cells)
    return (
        b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<worksheet '
        + _NS
        + b"><sheetData><row>"
        + headings
        + b"</row><row>"
        + row
        + b"</row></sheetData></worksheet>"
    )


# --- control characters: that row's error --------------------------------------------------


@pytest.mark.parametrize(
    ("column", "value"),
    [
        ("姓名", "张\x00三"),
        ("民族", "汉族\x00"),
        ("院系", "计算机\x1b[31m学院"),
        ("姓名", "张\u0085三"),  # a C1 control (NEL)
    ],
)
def test_a_control_character_in_a_value_is_that_rows_error(world, good_rows, column, value):
    bad = f.registry_row(world, "BAD", "坏", f.new_id_number()) | {column: value}
    report = _import(world, f.registry_csv([*good_rows, bad]))
    assert report.imported == 0 and not RegistryRecord.objects.exists()
    assert [error.line for error in report.errors] == [4]
    assert report.errors[0].messages == [f"{column} 含有控制字符（如 NUL 或换行符）。"]

    report = _import(world, f.registry_csv([*good_rows, bad]), valid_only=True)
    assert report.imported == 2
    assert not RegistryRecord.objects.filter(student_no="BAD").exists()


def test_a_nul_in_a_column_the_import_does_not_use_is_an_error_too(world, good_rows):
    headings = [*f.REGISTRY_HEADINGS, "备注"]
    rows = [good_rows[0] | {"备注": "ok"}, good_rows[1] | {"备注": "x\x00y"}]
    report = _import(world, f.registry_csv(rows, headings=headings))
    assert [(e.line, e.messages) for e in report.errors] == [
        (3, ["备注 含有控制字符（如 NUL 或换行符）。"])
    ]


def test_a_row_with_a_nul_is_listed_on_the_job_page_and_the_others_imported(
    client, world, good_rows, school_reviewer, django_capture_on_commit_callbacks
):
    """The job keeps its problems as JSON: a NUL there would fail on PostgreSQL."""
    bad = f.registry_row(world, "BAD", "张\x00三", f.new_id_number())
    upload = f.registry_csv([*good_rows, bad])
    upload.name = "registry.csv"
    client.force_login(school_reviewer)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("reviews:registry_import"), {"file": upload, "valid_only": "on"}
        )
    page = client.get(response.url)
    job = page.context["job"]
    assert (job.status, job.imported, job.error_count) == ("done", 2, 1)
    assert "姓名 含有控制字符（如 NUL 或换行符）。" in page.content.decode()
    assert RegistryRecord.objects.filter(school=world.school_a).count() == 2


# --- length: a value past MAX_VALUE_LENGTH ----------------------------------------------------


@pytest.mark.parametrize("make_file", [f.registry_csv, _xlsx], ids=["csv", "xlsx"])
def test_a_value_up_to_the_limit_is_read_and_one_past_it_is_that_rows_error(
    world, good_rows, make_file
):
    headings = [*f.REGISTRY_HEADINGS, "备注"]
    rows = [good_rows[0] | {"备注": "注" * MAX_VALUE_LENGTH}]
    report = _import(world, make_file(rows, headings=headings))
    assert report.ok and report.imported == 1

    rows = [good_rows[1] | {"备注": "注" * (MAX_VALUE_LENGTH + 1)}]
    report = _import(world, make_file(rows, headings=headings))
    assert [(e.line, e.messages) for e in report.errors] == [(2, ["备注：最多 1000 个字符。"])]


# --- a file that cannot be read: refused as a whole, with its reason ---------------------------


def test_a_csv_field_past_the_csv_modules_limit_is_a_clear_file_error_on_the_job_page(
    client, world, good_rows, school_reviewer, django_capture_on_commit_callbacks
):
    """It used to raise _csv.Error out of the job: the page only said 导入失败."""
    rows = [*good_rows, f.registry_row(world, "LONG", "长" * 200_000, f.new_id_number())]
    upload = f.registry_csv(rows)
    upload.name = "registry.csv"
    client.force_login(school_reviewer)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("reviews:registry_import"), {"file": upload})
    page = client.get(response.url)
    job = page.context["job"]
    assert (job.status, job.imported, job.error_count) == ("done", 0, 1)
    assert "CSV 文件从第 4 行起无法读取：该处有过长的值，或引号未闭合。" in page.content.decode()
    assert not RegistryRecord.objects.exists()


def test_an_unclosed_quotation_mark_swallowing_the_rest_is_a_clear_file_error(world, good_rows):
    content = f.registry_csv(good_rows).getvalue() + b'"B9,' + b"x,\n" * 100_000
    report = _import(world, io.BytesIO(content))
    assert report.imported == 0 and report.errors[0].line == 0
    assert "CSV 文件从第 4 行起无法读取" in report.errors[0].messages[0]


def test_a_huge_inline_string_is_refused_while_streaming_before_openpyxl_holds_it(
    world, monkeypatch
):
    """20 MB of one cell zip to 20 KB; openpyxl would build the whole string in memory."""
    huge = _with_sheet(_sheet(b"A1", b"x" * (20 * 1024 * 1024)))
    assert len(huge.getvalue()) < 200 * 1024
    monkeypatch.setattr(import_files, "load_workbook", pytest.fail)
    tracemalloc.start()
    try:
        report = _import(world, huge, "big.xlsx")
        _size, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert report.errors[0].line == 0
    assert report.errors[0].messages == [
        "XLSX 文件中有超过 1000 个字符的单元格，学籍信息中没有这么长的值。请修改文件后重新上传。"
    ]
    assert peak < 8 * 1024 * 1024  # a few 1 MB chunks at a time, never the 20 MB cell


def _strings(text: bytes) -> bytes:
    return (
        b'<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><si><t>'
        + text
        + b"</t></si></sst>"
    )


def test_a_huge_shared_string_is_refused_before_openpyxl_reads_the_strings(world, monkeypatch):
    sheet = _sheet(b"A1").replace(
        b'<c t="inlineStr"><is><t>A1</t></is></c>', b'<c t="s"><v>0</v></c>'
    )
    # The strings part is found: with a short string, the row is read (and lacks columns).
    report = _import(world, _with_sheet(sheet, strings=_strings(b"A1")), "ok.xlsx")
    assert [error.line for error in report.errors] == [2]

    monkeypatch.setattr(import_files, "load_workbook", pytest.fail)
    huge = _with_sheet(sheet, strings=_strings(b"x" * (2 * 1024 * 1024)))
    report = _import(world, huge, "big.xlsx")
    assert report.errors[0].line == 0
    assert "超过 1000 个字符的单元格" in report.errors[0].messages[0]


def _runs(count: int, length: int) -> bytes:
    """Rich text: ``count`` formatted runs of ``length`` characters, which make one value."""
    return b"".join(b"<r><rPr><b/></rPr><t>" + b"x" * length + b"</t></r>" for _ in range(count))


def test_a_shared_string_of_many_short_runs_is_refused_before_openpyxl_reads_it(world, monkeypatch):
    """35,000 runs of 900 characters: no stretch is long, but openpyxl would join 31.5 million
    characters into one cell (~900 MB) from a file of less than 100 KB."""
    sheet = _sheet(b"A1").replace(
        b'<c t="inlineStr"><is><t>A1</t></is></c>', b'<c t="s"><v>0</v></c>'
    )
    strings = (
        b'<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><si>'
        + _runs(35_000, 900)
        + b"</si></sst>"
    )
    bomb = _with_sheet(sheet, strings=strings)
    assert len(bomb.getvalue()) < 200 * 1024
    monkeypatch.setattr(import_files, "load_workbook", pytest.fail)
    tracemalloc.start()
    try:
        report = _import(world, bomb, "runs.xlsx")
        _size, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert report.errors[0].line == 0
    assert "超过 1000 个字符的单元格" in report.errors[0].messages[0]
    assert peak < 8 * 1024 * 1024


def test_an_inline_string_of_many_short_runs_is_refused_before_openpyxl_reads_it(
    world, monkeypatch
):
    monkeypatch.setattr(import_files, "load_workbook", pytest.fail)
    sheet = _sheet(b"A1", b"RUNS").replace(
        b"<is><t>RUNS</t></is>", b"<is>" + _runs(200, 900) + b"</is>"
    )
    report = _import(world, _with_sheet(sheet), "runs.xlsx")
    assert report.errors[0].line == 0
    assert "超过 1000 个字符的单元格" in report.errors[0].messages[0]


def test_short_rich_text_in_many_cells_is_read(world):
    """Each item's text is counted on its own: many formatted cells together are no long cell."""
    sheet = _sheet(b"A1", *([b"RUNS"] * 40)).replace(
        b"<is><t>RUNS</t></is>", b"<is>" + _runs(3, 300) + b"</is>"
    )
    report = _import(world, _with_sheet(sheet), "rich.xlsx")
    assert "超过 1000 个字符的单元格" not in " ".join(
        message for error in report.errors for message in error.messages
    )
    assert [error.line for error in report.errors] == [2]


@pytest.mark.parametrize(
    "cell",
    [
        # One cell's text cut into short pieces, so that no stretch of text looks long.
        pytest.param(b"<!---->".join([b"x" * 1000] * 50), id="comments"),
        pytest.param(b"<![CDATA[" + b"x" * 100 + b"]]>", id="CDATA"),
        pytest.param(b"<?pi?>".join([b"x" * 1000] * 50), id="processing instructions"),
    ],
)
def test_xml_that_spreadsheet_programs_do_not_write_is_refused(world, monkeypatch, cell):
    monkeypatch.setattr(import_files, "load_workbook", pytest.fail)
    report = _import(world, _with_sheet(_sheet(b"A1", cell)), "odd.xlsx")
    assert report.errors[0].line == 0
    assert "XLSX 文件含有电子表格软件不会写入的 XML 内容" in report.errors[0].messages[0]


def test_a_doctype_with_entities_is_refused(world, monkeypatch):
    sheet = _sheet(b"&big;").replace(
        b"<worksheet", b'<!DOCTYPE worksheet [<!ENTITY big "xxxxxxxx">]><worksheet', 1
    )
    monkeypatch.setattr(import_files, "load_workbook", pytest.fail)
    report = _import(world, _with_sheet(sheet), "odd.xlsx")
    assert "XLSX 文件含有电子表格软件不会写入的 XML 内容" in report.errors[0].messages[0]


def test_a_hand_written_sheet_with_the_xml_declaration_still_imports(world):
    """The declaration is the one processing instruction allowed: at the very start."""
    row = f.registry_row(world, "A1", "张三", f.new_id_number())
    cells = [row[h].encode() for h in f.REGISTRY_HEADINGS]
    report = _import(world, _with_sheet(_sheet(*cells)), "ok.xlsx")
    assert report.ok and report.imported == 1
