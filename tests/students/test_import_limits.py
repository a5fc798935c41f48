"""An import file is bounded: by size before it is read, by rows while it is read."""

import io
import zipfile

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import translation

from students import import_files, importing
from students.importing import registry_import
from students.models import RegistryImportJob, RegistryRecord
from tests import factories as f

_SHEET_NS = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
_REL_NS = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
_PKG_NS = "http://schemas.openxmlformats.org/package/2006/relationships"
_CT = "application/vnd.openxmlformats-officedocument"


def huge_xlsx(rows: int, *, declare_size: bool) -> bytes:
    """A workbook of ``rows`` identical rows that compresses to a few hundred KB, written
    straight into the zip (openpyxl would take minutes to write a million rows)."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(
            "[Content_Types].xml",
            '<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats'
            '.org/package/2006/content-types"><Default Extension="rels" ContentType="application'
            '/vnd.openxmlformats-package.relationships+xml"/><Default Extension="xml" ContentType'
            f'="application/xml"/><Override PartName="/xl/workbook.xml" ContentType="{_CT}'
            '.spreadsheetml.sheet.main+xml"/><Override PartName="/xl/worksheets/sheet1.xml" '
            f'ContentType="{_CT}.spreadsheetml.worksheet+xml"/></Types>',
        )
        archive.writestr(
            "_rels/.rels",
            f'<Relationships xmlns="{_PKG_NS}"><Relationship Id="rId1" Type="{_REL_NS}'
            '/officeDocument" Target="xl/workbook.xml"/></Relationships>',
        )
        archive.writestr(
            "xl/workbook.xml",
            f'<workbook xmlns="{_SHEET_NS}" xmlns:r="{_REL_NS}"><sheets><sheet name="学籍" '
            'sheetId="1" r:id="rId1"/></sheets></workbook>',
        )
        archive.writestr(
            "xl/_rels/workbook.xml.rels",
            f'<Relationships xmlns="{_PKG_NS}"><Relationship Id="rId1" Type="{_REL_NS}'
            '/worksheet" Target="worksheets/sheet1.xml"/></Relationships>',
        )
        with archive.open("xl/worksheets/sheet1.xml", "w") as sheet:
            sheet.write(f'<worksheet xmlns="{_SHEET_NS}">'.encode())
            if declare_size:
                sheet.write(f'<dimension ref="A1:B{rows + 1}"/>'.encode())
            sheet.write(
                '<sheetData><row><c t="inlineStr"><is><t>学号</t></is></c>'
                '<c t="inlineStr"><is><t>姓名</t></is></c></row>'.encode()
            )
            row = b'<row><c t="inlineStr"><is><t>X</t></is></c></row>'
            for _ in range(rows // 10_000):
                sheet.write(row * 10_000)
            sheet.write(row * (rows % 10_000))
            sheet.write(b"</sheetData></worksheet>")
    return out.getvalue()


@pytest.fixture(scope="module")
def million_rows() -> bytes:
    return huge_xlsx(1_000_000, declare_size=False)


def test_a_million_row_xlsx_is_small_on_disk(million_rows):
    assert len(million_rows) < 1024 * 1024


def test_a_million_row_xlsx_is_refused_after_the_row_limit_without_reading_on(
    world, million_rows, monkeypatch
):
    """The sheet does not declare its size, so its rows are counted as the XML is read."""
    import zipfile as zipfile_module

    read = {"bytes": 0, "sheet": 0}
    open_member = zipfile_module.ZipFile.open

    class Counting:
        def __init__(self, source):
            self.source = source

        def read(self, size=-1):
            data = self.source.read(size)
            read["bytes"] += len(data)
            return data

        def __getattr__(self, name):
            return getattr(self.source, name)

        def __enter__(self):
            return self

        def __exit__(self, *exc):
            self.source.close()

    def counting_open(archive, name, *args, **kwargs):
        source = open_member(archive, name, *args, **kwargs)
        if str(getattr(name, "filename", name)).endswith("sheet1.xml"):
            read["sheet"] = archive.getinfo("xl/worksheets/sheet1.xml").file_size
            return Counting(source)
        return source

    monkeypatch.setattr(zipfile_module.ZipFile, "open", counting_open)
    monkeypatch.setattr(importing, "_validate_row", pytest.fail)  # refused before validating
    with translation.override("zh-hans"):
        report = registry_import(
            school=world.school_a,
            handle=io.BytesIO(million_rows),
            filename="big.xlsx",
            actor=None,
        )
    assert report.imported == 0 and not RegistryRecord.objects.exists()
    assert report.errors[0].line == 0
    assert report.errors[0].messages == ["文件超过 200000 行，请拆分为每个不超过 200000 行的文件。"]
    # Reading stopped a little past the limit: about a fifth of the sheet's XML.
    assert read["bytes"] < read["sheet"] / 3  # the whole file took 57 s inside one request


def test_a_sheet_that_declares_too_many_rows_is_refused_before_any_row(world, monkeypatch):
    data = huge_xlsx(import_files.MAX_ROWS + 1, declare_size=True)
    monkeypatch.setattr(importing, "_normalise", pytest.fail)  # no row may be read
    report = registry_import(
        school=world.school_a, handle=io.BytesIO(data), filename="big.xlsx", actor=None
    )
    assert report.errors[0].line == 0 and str(import_files.MAX_ROWS) in report.errors[0].messages[0]


def test_a_csv_past_the_row_limit_is_refused_without_reading_the_rest(world, monkeypatch):
    monkeypatch.setattr(import_files, "MAX_ROWS", 5)
    heading = ",".join(f.REGISTRY_HEADINGS).encode()

    class Lines(io.BytesIO):
        consumed = 0

        def __iter__(self):
            for line in iter(self.readline, b""):
                Lines.consumed += 1
                yield line

    handle = Lines(heading + b"\n" + b"x,y\n" * 1000)
    report = registry_import(school=world.school_a, handle=handle, filename="a.csv", actor=None)
    assert report.errors[0].line == 0 and "5" in report.errors[0].messages[0]
    assert Lines.consumed <= 8  # the heading, five rows, the one too many (+ read-ahead)


def test_a_file_over_the_size_limit_is_refused_before_it_is_read(world, settings, monkeypatch):
    settings.REGISTRY_IMPORT_MAX_BYTES = 1024
    monkeypatch.setattr(importing, "read_rows", pytest.fail)
    with translation.override("en"):
        report = registry_import(
            school=world.school_a,
            handle=io.BytesIO(b"x" * 2048),
            filename="a.csv",
            actor=None,
        )
    assert report.errors[0].line == 0
    assert "can be imported at once" in report.errors[0].messages[0]


def test_the_upload_form_refuses_a_file_over_the_size_limit(
    client, world, settings, school_reviewer
):
    settings.REGISTRY_IMPORT_MAX_BYTES = 1024
    client.force_login(school_reviewer)
    upload = SimpleUploadedFile("big.csv", b"x" * 4096)
    with translation.override("en"):
        response = client.post(
            reverse("reviews:registry_import"), {"file": upload}, HTTP_ACCEPT_LANGUAGE="en"
        )
    assert response.status_code == 400
    assert "at most" in response.content.decode() or "最多" in response.content.decode()
    assert not RegistryImportJob.objects.exists()
