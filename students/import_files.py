"""Reading 学籍 import files without trusting them: the size is checked before reading, rows
are counted cheaply and the file refused as soon as it passes ``MAX_ROWS``, and an XLSX's XML is
scanned so that no huge cell or odd markup is ever built in memory. students/importing.py turns
the rows into records.
"""

import codecs
import csv
import re
from collections.abc import Iterator
from typing import IO

from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from openpyxl import load_workbook
from openpyxl.reader.excel import ExcelReader
from openpyxl.xml.constants import SHARED_STRINGS

MAX_ROWS = 200_000
# No value in a 学籍 row is meaningfully longer (an address would be the longest); anything
# longer is refused, and an XLSX is refused before such a cell is ever held in memory.
MAX_VALUE_LENGTH = 1000


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


def size_of(handle: IO[bytes]) -> int:
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


def open_rows(handle: IO[bytes], filename: str, encoding: str) -> tuple[list[str], Iterator]:
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


# A string item: a shared string (<si>) or a cell's inline string (<is>), whatever the prefix.
# Its text may be split into any number of rich-text runs (<r><t>…</t></r>), each short, that
# openpyxl joins into one value: so the text is counted across the whole item, not per stretch.
_STRING_ITEM = re.compile(rb"<(/?)(?:[A-Za-z_][\w.-]{0,20}:)?(?:si|is)(?=[\s/>])[^>]*>")
_ANY_TAG = re.compile(rb"<[^>]*>")


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
    no stretch between two "<" longer than ``_MAX_XML_STRETCH``, no string item whose runs
    together hold more text than that, and no unusual markup."""

    def __init__(self) -> None:
        self.offset = 0  # bytes fed so far
        self.stretch = 0  # bytes since the last "<"
        self.last = b""  # the last byte fed, for markup cut in two between chunks
        self.pending = b""  # a tag cut in two between chunks (short: the stretch is bounded)
        self.in_item = False  # inside a string item (<si> or <is>)
        self.item_text = 0  # bytes of text so far in that item, across all its runs

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
        self._count_items(chunk)

    def _count_items(self, chunk: bytes) -> None:
        """Refuse a string item whose text, all runs together, is longer than one cell may be."""
        data = self.pending + chunk
        cut = data.rfind(b"<")
        if cut <= data.rfind(b">"):  # no tag left open at the end
            cut = len(data)
        self.pending, data = data[cut:], data[:cut]
        position = 0
        for match in _STRING_ITEM.finditer(data):
            if self.in_item:
                self._add_text(data[position : match.start()])
            if match.group(1):
                self.in_item = False
            elif not match.group().endswith(b"/>"):
                self.in_item, self.item_text = True, 0
            position = match.end()
        if self.in_item:
            self._add_text(data[position:])

    def _add_text(self, xml: bytes) -> None:
        self.item_text += len(_ANY_TAG.sub(b"", xml))
        if self.item_text > _MAX_XML_STRETCH:
            raise _long_cell()


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
