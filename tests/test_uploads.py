"""Proof documents are accepted only when they are genuinely a PDF, PNG or JPEG and nothing else."""

import contextlib
import io
import logging
import struct
import threading
import zipfile
import zlib
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import translation
from PIL import Image, ImageFile, PngImagePlugin
from pypdf import PdfReader, PdfWriter
from pypdf.actions import JavaScript
from pypdf.annotations import Link
from pypdf.generic import ArrayObject, DictionaryObject, FloatObject, NameObject, TextStringObject

from agreements.models import Registration
from destreg.lib import uploads
from destreg.lib.uploads import MAX_BYTES, DocumentField, clean_document, validate_document
from employers.models import Employer
from tests import factories as f

HTML = b"<html><body><script>alert(document.cookie)</script></body></html>\n"


def _refusal(content: bytes, name: str = "upload") -> str | None:
    """The code of the ValidationError for this content, or None if it is accepted."""
    try:
        validate_document(SimpleUploadedFile(name, content))
    except ValidationError as error:
        return error.code
    return None


def _zip() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("META-INF/MANIFEST.MF", "Main-Class: Evil\n")
    return buffer.getvalue()


def _png_with_text(text: str) -> bytes:
    info = PngImagePlugin.PngInfo()
    info.add_text("Comment", text)
    buffer = io.BytesIO()
    Image.new("RGB", (8, 8)).save(buffer, "PNG", pnginfo=info)
    return buffer.getvalue()


def _action(kind: str, **entries: str) -> DictionaryObject:
    action = DictionaryObject({NameObject("/S"): NameObject(kind)})
    for key, value in entries.items():
        action[NameObject(f"/{key}")] = TextStringObject(value)
    return action


def _document_script(writer):
    writer.add_open_action(JavaScript("app.alert('hi');"))  # the /Names /JavaScript tree


def _xfa_form(writer):
    form = DictionaryObject({NameObject("/XFA"): TextStringObject("<xdp:xdp/>")})
    writer.root_object[NameObject("/AcroForm")] = form


def _open_action_to_first_page(writer):
    destination = ArrayObject([writer.pages[0].indirect_reference, NameObject("/Fit")])
    writer.root_object.update({NameObject("/OpenAction"): destination})


def _link(url: str):
    return lambda writer: writer.add_annotation(0, Link(rect=(50, 50, 200, 80), url=url))


def _annotation(subtype: str):
    def change(writer):
        annotation = DictionaryObject(
            {
                NameObject("/Type"): NameObject("/Annot"),
                NameObject("/Subtype"): NameObject(subtype),
                NameObject("/Rect"): ArrayObject([FloatObject(n) for n in (50, 50, 200, 80)]),
            }
        )
        writer.add_annotation(0, annotation)

    return change


def _open_action(action):
    return lambda writer: writer.root_object.update({NameObject("/OpenAction"): action})


def _page_action(action):
    def change(writer):
        writer.pages[0][NameObject("/AA")] = DictionaryObject({NameObject("/O"): action})

    return change


# --- accepted ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "content"),
    [
        ("scan.pdf", f.pdf_bytes()),
        ("scan.pdf", f.pdf_bytes(pages=3)),
        ("photo.png", f.png_bytes()),
        ("photo.jpg", f.jpeg_bytes((640, 480))),
        # a PDF that points at a page when opened does nothing active
        ("goto.pdf", f.pdf_bytes(change=_open_action_to_first_page)),
        # links to web pages and e-mail addresses are ordinary in a document
        ("link.pdf", f.pdf_bytes(change=_link("https://www.example.com/offer"))),
        ("link.pdf", f.pdf_bytes(change=_link("HTTP://www.example.com/"))),
        ("mail.pdf", f.pdf_bytes(change=_link("mailto:hr@example.com"))),
        (
            "toc.pdf",
            f.pdf_bytes(
                pages=2,
                change=lambda w: w.add_annotation(
                    0, Link(rect=(50, 50, 200, 80), target_page_index=1)
                ),
            ),
        ),
    ],
)
def test_it_accepts_real_documents(name, content):
    assert _refusal(content, name) is None


def test_it_accepts_a_multi_picture_jpeg_as_phones_take_them():
    """MPO (depth maps, HDR gain maps): further JPEG images follow the first one's end marker."""
    buffer = io.BytesIO()
    first, second = Image.new("RGB", (64, 48), "red"), Image.new("RGB", (64, 48), "blue")
    first.save(buffer, "MPO", save_all=True, append_images=[second])
    assert _refusal(buffer.getvalue(), "photo.jpg") is None


def test_it_accepts_a_pdf_that_pypdf_must_repair_without_logging_about_it(caplog):
    """A wrong startxref offset is common in the wild and harmless; pypdf repairs it quietly."""
    content = f.pdf_bytes().replace(b"startxref\n", b"startxref\n1")
    level = logging.getLogger("pypdf").level
    with caplog.at_level(logging.DEBUG):
        assert _refusal(content) is None
    assert not [record for record in caplog.records if record.name.startswith("pypdf")]
    assert logging.getLogger("pypdf").level == level


def test_a_tag_name_only_counts_with_a_tag_end_after_it():
    """So that four bytes like "<svg" in compressed image data do not refuse a photo."""
    assert _refusal(_png_with_text("<svgz is not a tag"), "a.png") is None
    assert _refusal(_png_with_text("<SVG/onload=alert(1)>"), "a.png") == "polyglot"


# --- refused ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "change",
    [
        pytest.param(_document_script, id="document JavaScript"),
        pytest.param(lambda w: w.add_attachment("invoice.exe", b"MZ\x90\x00"), id="attachment"),
        pytest.param(_open_action(_action("/Launch", F="cmd.exe")), id="launch on open"),
        pytest.param(_open_action(_action("/JavaScript", JS="app.alert(1)")), id="script on open"),
        pytest.param(_page_action(_action("/Launch", F="cmd.exe")), id="launch on page open"),
        pytest.param(_xfa_form, id="XFA form"),
        pytest.param(_open_action(_action("/GoToR", F="\\\\evil\\share\\x.pdf")), id="GoToR"),
        pytest.param(_page_action(_action("/SubmitForm", F="https://evil.example/")), id="submit"),
        pytest.param(_page_action(_action("/GoToE", F="x.pdf")), id="GoToE"),
        pytest.param(_page_action(_action("/ImportData", F="data.fdf")), id="import data"),
        # Nothing may run by itself when the document or a page opens, however harmless.
        pytest.param(_open_action(_action("/URI", URI="https://example.com/")), id="URI on open"),
        pytest.param(
            _open_action(_action("/URI", URI="file://attacker.example/share/x")),
            id="file URI on open",
        ),
        pytest.param(_open_action(_action("/Rendition")), id="rendition on open"),
        pytest.param(_page_action(_action("/GoTo", D="page1")), id="any page action"),
        pytest.param(_open_action(_action("/GoTo", D="page1")), id="any action on open"),
        # Links that lead anywhere but a web page or an e-mail address.
        pytest.param(_link("javascript:alert(document.cookie)"), id="javascript link"),
        pytest.param(_link(" javascript:alert(1)"), id="javascript link after a space"),
        pytest.param(_link("file://attacker.example/share/x"), id="file link"),
        pytest.param(_link("\\\\attacker.example\\share\\x"), id="UNC link"),
        pytest.param(_link("x.exe"), id="relative link"),
        # Media, whose players run their own scripts and fetch what they play.
        pytest.param(_page_action(_action("/Sound")), id="sound action"),
        pytest.param(_page_action(_action("/Movie")), id="movie action"),
        pytest.param(_annotation("/Screen"), id="screen annotation"),
        pytest.param(_annotation("/Sound"), id="sound annotation"),
        pytest.param(_annotation("/Movie"), id="movie annotation"),
        pytest.param(_annotation("/RichMedia"), id="rich media annotation"),
    ],
)
def test_it_refuses_a_pdf_with_active_content(change):
    assert _refusal(f.pdf_bytes(change=change), "a.pdf") == "active_content"


def test_it_refuses_an_encrypted_pdf():
    content = f.pdf_bytes(change=lambda w: w.encrypt(user_password="secret", algorithm="AES-128"))
    assert _refusal(content, "a.pdf") == "encrypted"


def test_it_says_what_to_do_with_a_pdf_that_has_scripts():
    with pytest.raises(ValidationError) as refused:
        validate_document(SimpleUploadedFile("a.pdf", f.pdf_bytes(change=_document_script)))
    assert "请将其另存（打印）为新的 PDF 或重新扫描后再上传" in refused.value.messages[0]


@pytest.mark.parametrize(
    ("content", "code"),
    [
        pytest.param(f.pdf_bytes() + _zip(), "polyglot", id="PDF + ZIP"),
        pytest.param(f.pdf_bytes() + HTML, "polyglot", id="PDF + HTML"),
        pytest.param(f.pdf_bytes() + b"<?php system($_GET['c']); ?>", "polyglot", id="PDF + PHP"),
        pytest.param(f.pdf_bytes() + b"\x00MZ not markup", "malformed", id="data after EOF"),
        pytest.param(f.pdf_bytes()[:300], "malformed", id="truncated"),
        pytest.param(
            b"%PDF-1.7\n" + bytes(range(256)) * 64 + b"\n%%EOF\n",
            "malformed",
            id="garbage after the header",
        ),
        pytest.param(
            b"%PDF-1.7\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n",
            "malformed",
            id="a header and a trailer only",
        ),
    ],
)
def test_it_refuses_a_broken_or_polyglot_pdf(content, code):
    assert _refusal(content, "a.pdf") == code


def test_it_refuses_a_pdf_without_pages():
    buffer = io.BytesIO()
    PdfWriter().write(buffer)
    assert _refusal(buffer.getvalue(), "a.pdf") == "malformed"


@pytest.mark.parametrize(
    ("name", "content", "code"),
    [
        ("a.png", f.png_bytes() + HTML, "polyglot"),
        ("a.png", _png_with_text("<script>alert(1)</script>"), "polyglot"),
        ("a.png", f.png_bytes() + b"\x00\x01 trailing", "malformed"),
        ("a.png", f.png_bytes()[:-20], "malformed"),
        ("a.png", f.png_bytes()[:40] + b"\x00" * 40, "malformed"),
        ("a.jpg", f.jpeg_bytes() + _zip(), "polyglot"),
        ("a.jpg", f.jpeg_bytes() + b"<iframe src=//evil>", "polyglot"),
        ("a.jpg", f.jpeg_bytes() + b"\x00\x01 trailing", "malformed"),
        ("a.jpg", f.jpeg_bytes((64, 64))[:-100], "malformed"),
        ("a.jpg", b"\xff\xd8\xff\xe0" + b"\x00" * 100 + b"\xff\xd9", "malformed"),
    ],
)
def test_it_refuses_a_broken_or_polyglot_image(name, content, code):
    assert _refusal(content, name) == code


@pytest.mark.parametrize(
    ("name", "content"),
    [
        ("x.png", b"GIF89a\x01\x00\x01\x00\x00\x00\x00;"),
        ("setup.pdf", b"MZ\x90\x00\x03\x00\x00\x00 renamed executable"),
        ("page.png", HTML),
        ("empty.pdf", b""),
    ],
)
def test_it_refuses_other_types_whatever_their_name(name, content):
    assert _refusal(content, name) == "type"


def test_it_refuses_a_file_over_10_mb():
    assert _refusal(b"%PDF-" + b"0" * (MAX_BYTES - 4), "big.pdf") == "size"


def _png_of_size(width: int, height: int) -> bytes:
    """A valid black-and-white PNG of any size that is small on disk (all white, 1 bit a pixel),
    written chunk by chunk so that building it never holds the picture."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
        )

    compressor = zlib.compressobj(9)
    row = b"\x00" + b"\xff" * ((width + 7) // 8)  # filter byte, then the pixels
    pixels = b"".join(compressor.compress(row * 100) for _ in range(height // 100))
    pixels += compressor.compress(row * (height % 100)) + compressor.flush()
    header = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)  # 1-bit greyscale
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", pixels) + chunk(b"IEND", b"")
    )


def _jpeg_of_size(width: int, height: int) -> bytes:
    """A small JPEG whose header claims another size (its start-of-frame marker rewritten)."""
    content = bytearray(f.jpeg_bytes((8, 8)))
    frame = content.index(b"\xff\xc0")  # length (2), precision (1), height (2), width (2)
    content[frame + 5 : frame + 9] = struct.pack(">HH", height, width)
    return bytes(content)


@pytest.fixture
def decoded(monkeypatch):
    """The images Pillow decodes (every decoder runs through ImageFile.load)."""
    calls: list[object] = []
    load = ImageFile.ImageFile.load

    def spy(image):
        calls.append(image)
        return load(image)

    monkeypatch.setattr(ImageFile.ImageFile, "load", spy)
    return calls


@pytest.mark.parametrize(
    ("name", "content"),
    [
        # Just under Pillow's own limit (89 million): what an attacker sent, 9400 x 9400.
        pytest.param("big.png", _png_of_size(9400, 9400), id="PNG 88 MP"),
        pytest.param("big.png", _png_of_size(8000, 5001), id="PNG just over 40 MP"),
        pytest.param("big.jpg", _jpeg_of_size(9400, 9400), id="JPEG 88 MP"),
    ],
)
def test_an_image_over_40_million_pixels_is_refused_from_its_header_without_decoding(
    name, content, decoded
):
    assert len(content) < 400 * 1024  # small on disk: only its header says how big it is
    with pytest.raises(ValidationError) as refused:
        clean_document(SimpleUploadedFile(name, content))
    assert refused.value.code == "dimensions"
    assert decoded == []  # the pixels were never decoded
    with translation.override("zh-hans"):
        assert "超过 40 兆像素" in refused.value.messages[0]


def test_the_pixel_cap_itself_is_allowed(monkeypatch):
    monkeypatch.setattr(uploads, "MAX_DOCUMENT_PIXELS", 64)
    assert _refusal(f.png_bytes((8, 8)), "a.png") is None
    assert _refusal(f.jpeg_bytes((8, 8)), "a.jpg") is None
    assert _refusal(f.png_bytes((8, 9)), "a.png") == "dimensions"
    assert _refusal(f.jpeg_bytes((9, 8)), "a.jpg") == "dimensions"


def test_an_employer_registering_with_a_huge_image_sees_why_it_is_refused(client, reference_data):
    from tests.employers.test_registration import URL, _form

    response = client.post(
        URL,
        _form(
            business_licence=SimpleUploadedFile("licence.png", _png_of_size(9400, 9400)),
            authorisation_letter=SimpleUploadedFile("letter.png", _png_of_size(9400, 9400)),
        ),
    )
    assert response.status_code == 200
    errors = response.context["form"].errors.as_data()
    assert errors["business_licence"][0].code == "dimensions"
    assert errors["authorisation_letter"][0].code == "dimensions"
    assert "该图片超过 40 兆像素" in response.content.decode()


def test_it_refuses_a_decompression_bomb(monkeypatch):
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 1000)
    assert _refusal(f.png_bytes((100, 100)), "a.png") == "dimensions"  # Pillow raises
    assert _refusal(f.jpeg_bytes((100, 100)), "a.jpg") == "dimensions"


@pytest.mark.filterwarnings("ignore::PIL.Image.DecompressionBombWarning")
def test_it_refuses_an_image_over_the_pixel_limit_even_where_pillow_only_warns(monkeypatch):
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 6000)
    assert _refusal(f.png_bytes((100, 100)), "a.png") == "dimensions"


@pytest.mark.parametrize(
    "content", [f.pdf_bytes(), f.png_bytes(), f.jpeg_bytes(), f.pdf_bytes() + HTML, b"MZ"]
)
def test_the_file_is_back_at_its_start_afterwards(content):
    upload = SimpleUploadedFile("a", content)
    upload.read(3)
    with contextlib.suppress(ValidationError):
        validate_document(upload)
    assert upload.tell() == 0
    assert upload.read() == content


# --- through a form ---------------------------------------------------------------------------


def test_a_proof_with_a_script_is_refused_and_a_real_one_is_kept(client, student):
    client.force_login(student.user)
    url = reverse("agreements:registration_new", args=["other"])
    data = {"kind": "conscript", "org_name": "某部队", "action": "submit"}
    scripted = SimpleUploadedFile("proof.pdf", f.pdf_bytes(change=_document_script))
    response = client.post(url, data | {"proof": scripted})
    assert response.context["form"].errors.as_data()["proof"][0].code == "active_content"
    assert not Registration.objects.exists()

    photo = _png_with_text("GPS 39.9 116.4")
    response = client.post(url, data | {"proof": SimpleUploadedFile("p.png", photo)})
    assert response.status_code == 302
    with Registration.objects.get().proof.open("rb") as stored:
        kept = stored.read()
    assert kept != photo and b"GPS" not in kept
    assert Image.open(io.BytesIO(kept)).size == (8, 8)


# --- what is stored: the document rebuilt, nothing else ---------------------------------------


def _stored(content: bytes, name: str) -> bytes:
    return clean_document(SimpleUploadedFile(name, content)).read()


def _jpeg_with_gps() -> bytes:
    exif = Image.Exif()
    exif[0x0112] = 6  # orientation: the phone was held upright, the pixels lie on their side
    exif[0x8825] = {1: "N", 2: (39.0, 54.0, 27.0), 3: "E", 4: (116.0, 23.0, 17.0)}  # GPS
    buffer = io.BytesIO()
    Image.new("RGB", (40, 20), "white").save(buffer, "JPEG", exif=exif.tobytes())
    return buffer.getvalue()


def test_a_photo_is_stored_without_its_exif_gps_position_and_still_upright():
    content = _jpeg_with_gps()
    assert Image.open(io.BytesIO(content)).getexif().get_ifd(0x8825)  # the GPS is really there
    stored = Image.open(io.BytesIO(_stored(content, "photo.jpg")))
    assert stored.format == "JPEG"
    assert not stored.getexif() and "exif" not in stored.info
    assert stored.size == (20, 40)  # the rotation EXIF asked for is applied before it goes


def test_bytes_after_an_image_are_not_stored():
    """Trailing bytes the checks tolerate (more MPO pictures after the first) do not survive."""
    buffer = io.BytesIO()
    first, second = Image.new("RGB", (64, 48), "red"), Image.new("RGB", (64, 48), "blue")
    first.save(buffer, "MPO", save_all=True, append_images=[second])
    stored = _stored(buffer.getvalue(), "photo.jpg")
    assert stored.count(b"\xff\xd8") == 1 and stored.endswith(b"\xff\xd9")
    assert Image.open(io.BytesIO(stored)).format == "JPEG"  # no longer multi-picture


def test_a_png_text_chunk_is_not_stored():
    content = _png_with_text("Scanned by the HR office, 13900000000")
    assert b"tEXt" in content
    stored = _stored(content, "scan.png")
    assert b"tEXt" not in stored and b"13900000000" not in stored
    image = Image.open(io.BytesIO(stored))
    assert image.format == "PNG" and image.size == (8, 8) and "Comment" not in image.info


def test_an_ordinary_pdf_is_stored_rewritten_without_metadata_and_still_opens():
    def with_metadata(writer):
        writer.add_metadata({"/Author": "张三 13900000000", "/Producer": "scanner"})

    content = f.pdf_bytes(pages=2, change=with_metadata)
    stored = _stored(content, "scan.pdf")
    assert stored != content and b"13900000000" not in stored.replace(b"\x00", b"")
    reader = PdfReader(io.BytesIO(stored))
    assert len(reader.pages) == 2 and not reader.metadata
    assert clean_document(SimpleUploadedFile("again.pdf", stored))  # and it passes again


def test_a_web_link_in_a_pdf_is_stored_and_still_leads_there():
    stored = _stored(f.pdf_bytes(change=_link("https://www.example.com/offer")), "offer.pdf")
    annotation = PdfReader(io.BytesIO(stored)).pages[0]["/Annots"][0].get_object()
    assert annotation["/A"]["/URI"] == "https://www.example.com/offer"


def _with_unreferenced_object(pdf: bytes, payload: bytes) -> bytes:
    """An incremental update adding object 99, which nothing in the document refers to."""
    previous = int(pdf.rsplit(b"startxref", 1)[1].split()[0])
    root = pdf.rsplit(b"/Root", 1)[1].split(b"R")[0].strip()
    obj = b"99 0 obj\n(" + payload + b")\nendobj\n"
    xref = len(pdf) + len(obj)
    return (
        pdf + obj + b"xref\n0 1\n0000000000 65535 f \n99 1\n%010d 00000 n \n" % len(pdf)
        + b"trailer\n<< /Size 100 /Root " + root + b" R /Prev %d >>\n" % previous
        + b"startxref\n%d\n%%%%EOF\n" % xref
    )  # fmt: skip


def test_an_unreferenced_object_hidden_in_a_pdf_is_not_stored():
    content = _with_unreferenced_object(f.pdf_bytes(), b"SECRET-PAYLOAD")
    assert _refusal(content, "scan.pdf") is None  # a valid PDF, so it would be stored
    stored = _stored(content, "scan.pdf")
    assert b"SECRET-PAYLOAD" not in stored
    assert len(PdfReader(io.BytesIO(stored)).pages) == 1


def test_a_pdf_signed_over_the_whole_file_is_kept_so_its_signature_still_verifies():
    from agreements.signing import check_pdf_signature, sign_pdf

    signed = sign_pdf(f.pdf_bytes())
    stored = _stored(signed, "signed.pdf")
    assert stored == signed
    # pyHanko's check runs an event loop, which it cannot inside the browser tests' loop.
    with ThreadPoolExecutor(max_workers=1) as pool:
        assert pool.submit(check_pdf_signature, stored).result().sound
    assert len(PdfReader(io.BytesIO(stored)).pages) == 1


def test_a_signed_pdf_changed_after_signing_is_rewritten_like_any_other():
    from agreements.signing import sign_pdf

    signed = sign_pdf(f.pdf_bytes())
    tampered = signed.replace(b"/MediaBox", b"/MediaBoy", 1)  # breaks the signed digest
    assert _stored(tampered, "signed.pdf") != tampered


@pytest.mark.parametrize(
    ("content", "message"),
    [
        pytest.param(f.pdf_bytes(change=_document_script), "脚本、附件", id="JavaScript"),
        pytest.param(
            f.pdf_bytes(change=lambda w: w.add_attachment("a.exe", b"MZ")), "脚本、附件", id="file"
        ),
        pytest.param(f.pdf_bytes() + _zip(), "压缩包", id="ZIP polyglot"),
    ],
)
def test_a_refused_pdf_gets_a_clear_translated_reason(content, message):
    with pytest.raises(ValidationError) as refused:
        clean_document(SimpleUploadedFile("a.pdf", content))
    assert message in refused.value.messages[0]


def test_a_zip_with_a_pdf_header_in_front_is_refused():
    content = b"%PDF-1.7\n" + _zip() + b"\n%%EOF\n"
    assert _refusal(content, "a.pdf") == "polyglot"


@pytest.mark.django_db  # the destination form reads its evidence rules
def test_every_stored_upload_form_field_rebuilds_the_document():
    """The forms whose files are kept use DocumentField, not a bare validator."""
    from agreements.online.forms import TerminationRequestForm
    from agreements.registrations.forms import RegistrationForm, ScanForm

    assert isinstance(ScanForm().fields["scan"], DocumentField)
    assert isinstance(TerminationRequestForm().fields["document"], DocumentField)
    assert isinstance(RegistrationForm(path="other").fields["proof"], DocumentField)


# --- memory: what decoding a document may cost ------------------------------------------------


def _blank_rgba_png(width: int, height: int) -> bytes:
    """What the tester sent: a blank RGBA PNG, 154 KB on disk for 6300 x 6300 (160 MB decoded)."""
    buffer = io.BytesIO()
    Image.new("RGBA", (width, height)).save(buffer, "PNG")
    return buffer.getvalue()


def test_an_anonymous_registration_with_other_errors_decodes_no_image(
    client, reference_data, decoded
):
    """Refused anyway (no user name, no unit): the documents are only checked, never rebuilt."""
    from tests.employers.test_registration import URL, _form

    response = client.post(
        URL,
        _form(
            username="",
            name="",
            business_licence=SimpleUploadedFile("licence.png", f.png_bytes((600, 800))),
            authorisation_letter=SimpleUploadedFile("letter.png", f.png_bytes((600, 800))),
        ),
    )
    assert response.status_code == 200
    errors = response.context["form"].errors
    assert {"username", "name"} <= set(errors)
    assert "business_licence" not in errors and "authorisation_letter" not in errors
    assert decoded == []


def test_a_valid_form_still_stores_the_rebuilt_image(decoded):
    from agreements.online.forms import TerminationRequestForm

    upload = SimpleUploadedFile("proof.png", _png_with_text("secret note"))
    form = TerminationRequestForm({"reason": "单位撤销"}, {"document": upload})
    assert form.is_valid(), form.errors
    stored = form.cleaned_data["document"]
    assert stored.name == "document.png"
    content = stored.read()
    assert b"secret note" not in content
    assert Image.open(io.BytesIO(content)).size == (8, 8)
    assert decoded  # the rebuild decoded it


def test_the_testers_blank_rgba_png_is_refused_from_its_header_without_decoding(
    client, reference_data, decoded
):
    from tests.employers.test_registration import URL, _form

    content = _blank_rgba_png(6300, 6300)
    assert len(content) < 400 * 1024
    response = client.post(
        URL,
        _form(
            business_licence=SimpleUploadedFile("licence.png", content),
            authorisation_letter=SimpleUploadedFile("letter.png", content),
        ),
    )
    assert response.status_code == 200
    errors = response.context["form"].errors.as_data()
    assert errors["business_licence"][0].code == "too_large"
    assert errors["authorisation_letter"][0].code == "too_large"
    assert "该图片太大，无法处理" in response.content.decode()
    assert decoded == []
    assert not Employer.objects.exists()


def test_a_greyscale_png_of_the_same_size_is_within_the_memory_budget():
    """One byte a pixel instead of four: a large black-and-white scan still passes the check."""
    buffer = io.BytesIO()
    Image.new("L", (6300, 6300), 255).save(buffer, "PNG")
    assert _refusal(buffer.getvalue(), "scan.png") is None


def test_a_jpeg_over_the_memory_budget_is_stored_at_a_reduced_scale(monkeypatch):
    monkeypatch.setattr(uploads, "MAX_DECODED_BYTES", 100 * 100 * 4)
    stored = Image.open(io.BytesIO(_stored(f.jpeg_bytes((400, 200)), "photo.jpg")))
    assert stored.size == (100, 50)  # decoded at 1/4 scale: 100 x 50 x 4 bytes fits
    assert stored.format == "JPEG"


def test_a_rotated_jpeg_counts_its_turned_copy_and_stays_upright(monkeypatch):
    monkeypatch.setattr(uploads, "MAX_DECODED_BYTES", 40 * 20 * 4)  # one copy fits, not two
    stored = Image.open(io.BytesIO(_stored(_jpeg_with_gps(), "photo.jpg")))
    assert stored.size == (10, 20)  # half scale, then turned upright


def test_a_png_over_the_memory_budget_is_refused_with_what_to_do(monkeypatch):
    monkeypatch.setattr(uploads, "MAX_DECODED_BYTES", 8 * 8 * 4 - 1)
    with pytest.raises(ValidationError) as refused:
        clean_document(SimpleUploadedFile("a.png", f.png_bytes((8, 8))))
    assert refused.value.code == "too_large"
    with translation.override("zh-hans"):
        assert "降低分辨率" in refused.value.messages[0]


def test_when_every_rebuild_slot_is_taken_the_uploader_is_asked_to_try_again(monkeypatch):
    from agreements.registrations.forms import ScanForm

    slots = threading.BoundedSemaphore(1)
    slots.acquire()
    monkeypatch.setattr(uploads, "_REBUILDS", slots)
    monkeypatch.setattr(uploads, "REBUILD_WAIT_SECONDS", 0.01)
    form = ScanForm({}, {"scan": SimpleUploadedFile("scan.png", f.png_bytes())})
    assert not form.is_valid()
    assert form.errors.as_data()["scan"][0].code == "busy"
    slots.release()
    form = ScanForm({}, {"scan": SimpleUploadedFile("scan.png", f.png_bytes())})
    assert form.is_valid()  # and the slot was given back after that rebuild
    assert slots.acquire(blocking=False)


def test_every_form_with_a_document_field_rebuilds_its_documents():
    """A DocumentField only checks; the DocumentForm it belongs to rebuilds what is stored."""
    from agreements.online.forms import TerminationRequestForm
    from agreements.registrations.forms import RegistrationForm, ScanForm
    from employers.forms import EmployerEvidenceForm, EmployerRegistrationForm

    for form_class in (
        ScanForm,
        TerminationRequestForm,
        RegistrationForm,
        EmployerEvidenceForm,
        EmployerRegistrationForm,
    ):
        assert issubclass(form_class, uploads.DocumentForm), form_class
