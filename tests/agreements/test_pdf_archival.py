"""The signed 就业协议书 as an archival document: PDF/A-3b, a PAdES signature that poppler and
pyHanko report valid, and a signature block saying who did what and when, with the school's
seal placed by the platform only once the school approved."""

import io
import re
import subprocess

import pytest
import zxingcpp
from django.core.files.base import ContentFile
from django.utils import timezone
from PIL import Image
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.validation import validate_pdf_signature
from pypdf import PdfReader

from agreements.models import Agreement, Registration
from agreements.online import services
from agreements.pdf import render_agreement_pdf, verification_url
from agreements.signing import _validation_context
from agreements.tasks import store_pdf
from tests import factories as f


def _with_seal(school):
    school.seal.save("document.png", ContentFile(f.seal_png()))
    return school


@pytest.fixture
def signed_pdf(world, student, employer_user, college_reviewer, school_reviewer):
    """An online agreement signed by a school with a seal, its stored PDF and the agreement."""
    _with_seal(world.school_a)
    employer_user.display_name = "陈经办"
    employer_user.save(update_fields=["display_name"])
    invitation = f.make_invitation(employer_user.employer, student, sent_by=employer_user)
    agreement = services.invitation_accept(invitation=invitation, user=student.user)
    services.agreement_approve(agreement=agreement, reviewer=college_reviewer)
    services.agreement_approve(agreement=agreement, reviewer=school_reviewer)
    assert store_pdf(Agreement, agreement.pk)
    agreement = Agreement.objects.select_related("invitation").get(pk=agreement.pk)
    with agreement.pdf.open("rb") as handle:
        return handle.read(), agreement


def _text(data: bytes) -> str:
    pages = PdfReader(io.BytesIO(data)).pages
    return "".join("".join(page.extract_text() for page in pages).split())


def _images(data: bytes) -> list[Image.Image]:
    """The distinct pictures on the pages (the QR code sits in every page's footer)."""
    pictures: dict[bytes, Image.Image] = {}
    for page in PdfReader(io.BytesIO(data)).pages:
        for image in page.images:
            pictures.setdefault(image.data, image.image)
    return list(pictures.values())


def _day(moment) -> str:
    day = timezone.localdate(moment)
    return f"{day.year}年{day.month}月{day.day}日"


def test_the_pdf_identifies_itself_as_pdf_a_3b(signed_pdf):
    data, _agreement = signed_pdf
    reader = PdfReader(io.BytesIO(data))
    root = reader.trailer["/Root"]
    xmp = root["/Metadata"].get_object().get_data().decode()
    assert re.search(r'pdfaid:part(="|>)3', xmp), xmp
    assert re.search(r'pdfaid:conformance(="|>)B', xmp), xmp
    intents = [intent.get_object() for intent in root["/OutputIntents"]]
    assert [str(intent["/S"]) for intent in intents] == ["/GTS_PDFA1"]
    profile = intents[0]["/DestOutputProfile"].get_object().get_data()
    assert profile[36:40] == b"acsp"  # an embedded ICC profile
    # PDF/A: the information dictionary agrees with the XMP metadata.
    producer = str(reader.trailer["/Info"]["/Producer"])
    assert f'pdf:Producer="{producer}"' in xmp or f"<pdf:Producer>{producer}<" in xmp


def test_the_pdf_a_rules_a_signature_could_break_still_hold(signed_pdf):
    """What veraPDF would check first, read directly: every font embedded, a file identifier,
    no encryption, and the signature's widget printable with an empty rectangle (so it needs
    no appearance stream)."""
    data, _agreement = signed_pdf
    reader = PdfReader(io.BytesIO(data))
    assert "/ID" in reader.trailer and "/Encrypt" not in reader.trailer
    for page in reader.pages:
        for font in page["/Resources"]["/Font"].get_object().values():
            font = font.get_object()
            for descendant in font.get("/DescendantFonts", [font]):
                descriptor = descendant.get_object()["/FontDescriptor"].get_object()
                assert {"/FontFile", "/FontFile2", "/FontFile3"} & set(descriptor), font
    (field,) = [f.get_object() for f in reader.trailer["/Root"]["/AcroForm"]["/Fields"]]
    assert int(field["/F"]) & 4 and not int(field["/F"]) & (1 | 2 | 32)  # Print; not hidden
    assert [float(x) for x in field["/Rect"]] == [0, 0, 0, 0]


def test_the_signature_is_pades(signed_pdf):
    data, _agreement = signed_pdf
    (signature,) = PdfFileReader(io.BytesIO(data)).embedded_signatures
    assert signature.sig_object["/SubFilter"] == "/ETSI.CAdES.detached"
    assert b"/SubFilter /ETSI.CAdES.detached" in data


def test_poppler_reports_the_signature_valid_over_the_whole_file(signed_pdf, tmp_path):
    data, _agreement = signed_pdf
    path = tmp_path / "agreement.pdf"
    path.write_bytes(data)
    report = subprocess.run(  # noqa: S603 - a fixed program on our own file
        ["/usr/bin/pdfsig", str(path)], capture_output=True, text=True, check=True
    ).stdout
    assert "Signature Type: ETSI.CAdES.detached" in report
    assert "Signature Validation: Signature is Valid." in report
    assert "Total document signed" in report


def test_pyhanko_validates_the_signature(signed_pdf):
    data, _agreement = signed_pdf
    (signature,) = PdfFileReader(io.BytesIO(data)).embedded_signatures
    status = validate_pdf_signature(signature, _validation_context())
    assert status.intact and status.valid and status.trusted
    assert signature.coverage is not None and signature.coverage.name == "ENTIRE_FILE"


def test_the_qr_code_still_decodes_to_the_verification_url(signed_pdf):
    data, agreement = signed_pdf
    decoded = {result.text for image in _images(data) for result in zxingcpp.read_barcodes(image)}
    assert decoded == {verification_url(agreement)}


def test_the_signature_block_says_who_did_what_and_when(signed_pdf):
    data, agreement = signed_pdf
    text = _text(data)
    assert f"{_day(agreement.invitation.created_at)}在线发送协议条款" in text
    assert "发送人：陈经办" in text
    assert f"{_day(agreement.created_at)}在线接受协议" in text
    assert f"{_day(agreement.signed_at)}审核通过，签约成功" in text
    assert "年月日" not in text  # no blank date lines left
    assert "学校未上传电子印章" not in text


def test_the_seal_is_placed_once_the_school_approved(signed_pdf):
    data, _agreement = signed_pdf
    seals = [image for image in _images(data) if not zxingcpp.read_barcodes(image)]
    assert len(seals) == 1
    # The seal's red, as uploaded, not a placeholder.
    seal = seals[0].convert("RGBA")
    red = seal.getpixel((seal.width // 2, seal.width // 25 * 3 // 2))  # on the ring
    assert red[0] > 150 and red[1] < 80


def test_no_seal_on_an_agreement_under_review(world, agreement, college_reviewer):
    _with_seal(world.school_a)
    services.agreement_approve(agreement=agreement, reviewer=college_reviewer)  # school's turn
    agreement = Agreement.objects.get(pk=agreement.pk)
    assert agreement.status == Agreement.Status.SCHOOL_REVIEW
    data, _hash = render_agreement_pdf(agreement)
    assert len(_images(data)) == 1  # the QR code only
    text = _text(data)
    assert "待学校审核" in text
    assert "审核通过，签约成功" not in text and "学校未上传电子印章" not in text


def test_an_approved_agreement_of_a_school_without_a_seal_says_so(signed):
    agreement = Agreement.objects.get(pk=signed.pk)
    assert not agreement.school.seal
    data, _hash = render_agreement_pdf(agreement)
    assert len(_images(data)) == 1
    assert "（学校未上传电子印章）" in _text(data)


def test_an_offline_agreement_keeps_blank_lines_and_gets_no_seal(
    client, world, student, college_reviewer, school_reviewer
):
    """Stamped on paper: even approved by the school, the platform places no seal on it."""
    from tests.agreements.test_offline_signing import _signed

    _with_seal(world.school_a)
    registration = _signed(client, student, "offline", college_reviewer, school_reviewer)
    assert registration.status == Registration.Status.APPROVED and registration.signed_at
    data, _hash = render_agreement_pdf(registration)
    text = _text(data)
    assert "年月日" in text and "在线接受协议" not in text and "电子印章" not in text
    assert len(_images(data)) == 1
