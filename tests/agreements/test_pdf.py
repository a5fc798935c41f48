import hashlib
import io

import pytest
import zxingcpp
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from pypdf import PdfReader

from agreements.models import Agreement
from agreements.online import services
from agreements.pdf import canonical_content, verification_url
from agreements.signing import check_pdf_signature
from agreements.tasks import store_pdf
from agreements.verification import UploadVerdict, compare_upload
from tests import factories as f


@pytest.fixture
def rare(world, employer_user, college_reviewer, school_reviewer):
    """A signed agreement with a rare-character name, its PDF stored."""
    student = f.make_student(f.make_record(world.major_a1, name="王喆堃昇玥䶮"))
    invitation = f.make_invitation(employer_user.employer, student, supplement="提供住宿，补充条款")
    agreement = services.invitation_accept(invitation=invitation, user=student.user)
    services.agreement_approve(agreement=agreement, reviewer=college_reviewer)
    services.agreement_approve(agreement=agreement, reviewer=school_reviewer)
    assert store_pdf(Agreement, agreement.pk)
    return Agreement.objects.get(pk=agreement.pk)


def _bytes(agreement) -> bytes:
    with agreement.pdf.open("rb") as handle:
        return handle.read()


def _text(data: bytes) -> str:
    return "".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages)


def test_the_pdf_carries_the_agreements_data(rare):
    data = _bytes(rare)
    text = "".join(_text(data).split())  # layout adds line breaks inside cells
    content = canonical_content(rare)
    for value in [
        content["number"], content["employer"]["name"], content["employer"]["uscc"],
        content["student"]["name"], content["student"]["id_number"], content["terms"]["position"],
        content["school"]["name"], "提供住宿，补充条款", "甲方盖章前请扫码验证协议内容!",
        *content["clauses"][:3],
    ]:  # fmt: skip
        assert "".join(value.split()) in text, value
    assert hashlib.sha256(data).hexdigest() == rare.pdf_sha256


def test_every_character_has_a_real_glyph(rare):
    from fontTools.ttLib import TTCollection

    reader = PdfReader(io.BytesIO(_bytes(rare)))
    fonts = {
        str(font["/BaseFont"])
        for page in reader.pages
        for font in (page["/Resources"]["/Font"].get_object().values())
        for font in [font.get_object()]
    }
    assert any("Noto-Serif-CJK" in name or "Noto-Sans-CJK" in name for name in fonts), fonts
    # The embedded font is a subset of Noto CJK: check the face itself maps every character.
    cmap = TTCollection("/usr/share/fonts/opentype/noto/NotoSerifCJK-Regular.ttc").fonts[0]
    covered = cmap.getBestCmap()
    printed = "".join(str(v) for v in canonical_content(rare)["student"].values())
    missing = {ch for ch in printed if not ch.isspace() and ord(ch) not in covered}
    assert not missing
    assert "王喆堃昇玥䶮" in _text(_bytes(rare))


def test_the_qr_code_decodes_to_the_verification_url(rare):
    page = PdfReader(io.BytesIO(_bytes(rare))).pages[0]
    decoded = {
        result.text for image in page.images for result in zxingcpp.read_barcodes(image.image)
    }
    assert decoded == {verification_url(rare)}
    assert rare.verify_token != str(rare.pk) and len(rare.verify_token) >= 40


def test_the_pdf_is_signed_by_the_platform_and_tampering_shows(rare):
    data = _bytes(rare)
    assert check_pdf_signature(data).trusted
    assert compare_upload(rare, data) is UploadVerdict.CURRENT
    tampered = data.replace(rare.number.encode(), b"209919999000009")
    if tampered == data:  # the number is in compressed streams: change a byte mid-file
        middle = len(data) // 2
        tampered = data[:middle] + bytes([data[middle] ^ 0xFF]) + data[middle + 1 :]
    assert compare_upload(rare, tampered) is UploadVerdict.TAMPERED
    assert compare_upload(rare, data + b"\n% appended") is UploadVerdict.TAMPERED


def test_rendering_again_changes_nothing(rare):
    name = rare.pdf.name
    assert store_pdf(Agreement, rare.pk) is False
    assert Agreement.objects.get(pk=rare.pk).pdf.name == name


def test_the_verification_page(client, rare):
    url = reverse("agreements:verify", args=[rare.verify_token])
    page = client.get(url).content.decode()
    assert "有效" in page and rare.number in page and "王*****" in page
    assert rare.content_sha256 in page and "王喆堃昇玥䶮" not in page

    upload = SimpleUploadedFile("a.pdf", _bytes(rare), content_type="application/pdf")
    assert client.post(url, {"file": upload}).context["result"] is UploadVerdict.CURRENT

    Agreement.objects.filter(pk=rare.pk).update(status="terminated")
    assert "已解约" in client.get(url).content.decode()
    unknown = client.get(reverse("agreements:verify", args=["x" * 43]))
    assert unknown.status_code == 404


def test_download_serves_the_stored_file_to_the_parties_only(
    client, rare, employer_user, other_student, other_employer_user
):
    url = reverse("agreements:download", args=[rare.pk])
    for user in (rare.student.user, employer_user):
        client.force_login(user)
        response = client.get(url)
        assert response.status_code == 200
        assert b"".join(response.streaming_content) == _bytes(rare)
    for user in (other_student.user, other_employer_user):
        client.force_login(user)
        assert client.get(url).status_code == 404


def test_download_before_signing_and_while_rendering(client, agreement, student):
    client.force_login(student.user)
    url = reverse("agreements:download", args=[agreement.pk])
    assert client.get(url).status_code == 403
    Agreement.objects.filter(pk=agreement.pk).update(status="signed", number="202699999000001")
    response = client.get(url)
    assert response.status_code == 202
    assert 'http-equiv="refresh"' in response.content.decode()


def test_the_system_check_is_quiet_when_fonts_and_harfbuzz_are_installed():
    from agreements.checks import pdf_fonts

    assert pdf_fonts(None) == []


def test_the_system_check_warns_without_a_cjk_font(monkeypatch):
    from agreements import checks

    monkeypatch.setattr(checks, "cjk_font_available", lambda: False)
    monkeypatch.setattr(checks, "harfbuzz_subset_available", lambda: False)
    assert [w.id for w in checks.pdf_fonts(None)] == ["agreements.W001", "agreements.W002"]
