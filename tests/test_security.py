import pytest
from django.urls import reverse


@pytest.mark.parametrize("url_name", ["login", "students:signup", "employers:register"])
def test_pages_carry_a_strict_content_security_policy(client, reference_data, url_name):
    policy = client.get(reverse(url_name))["Content-Security-Policy"]
    assert "script-src 'self'" in policy and "style-src 'self'" in policy
    assert "unsafe-inline" not in policy


def test_templates_have_no_inline_scripts_or_styles():
    from pathlib import Path

    root = Path(__file__).resolve().parents[1] / "templates"
    for path in root.rglob("*.html"):
        if "pdf" in path.parts:
            continue  # rendered by WeasyPrint, never served to a browser
        text = path.read_text(encoding="utf-8")
        assert "<script>" not in text and " style=" not in text and "<style" not in text, path


def test_pages_may_not_be_framed_but_document_previews_may(client, student, reference_data):
    from django.core.files.uploadedfile import SimpleUploadedFile

    from agreements.registrations import services as registrations

    client.force_login(student.user)
    assert client.get(reverse("students:home"))["X-Frame-Options"] == "DENY"
    item = registrations.registration_save_draft(
        student=student,
        path="other",
        values={"kind": "freelance", "proof": SimpleUploadedFile("p.pdf", b"%PDF-1.7\n%%EOF\n")},
    )
    preview = client.get(reverse("agreements:registration_file", args=[item.pk, "proof"]))
    assert preview["X-Frame-Options"] == "SAMEORIGIN"
    assert preview["Content-Type"] == "application/pdf"


def test_every_post_needs_the_csrf_token(student, reference_data):
    from django.test import Client

    client = Client(enforce_csrf_checks=True)
    client.force_login(student.user)
    for name in ("students:account", "students:update_request", "logout"):
        assert client.post(reverse(name), {}).status_code == 403


def test_sessions_expire(client, student, settings):
    from datetime import timedelta

    from django.contrib.sessions.models import Session
    from django.utils import timezone

    client.force_login(student.user)
    assert client.get(reverse("students:home")).status_code == 200
    Session.objects.update(expire_date=timezone.now() - timedelta(seconds=1))
    assert client.get(reverse("students:home")).status_code == 302
    assert settings.SESSION_COOKIE_HTTPONLY


@pytest.mark.parametrize(
    ("name", "content"),
    [
        # whatever the uploader calls a file, it is stored under a random name
        ("../../etc/passwd.pdf", b"%PDF-1.7\n%%EOF\n"),
        ("scan.pdf.exe", b"MZ\x90\x00"),
        ("polyglot.png", b"%PDF-1.7\nPK\x03\x04 zip inside"),
    ],
)
def test_upload_names_never_reach_the_disk(student, name, content):
    from django.core.files.uploadedfile import SimpleUploadedFile

    from agreements.registrations import services as registrations

    item = registrations.registration_save_draft(
        student=student,
        path="other",
        values={"kind": "freelance", "proof": SimpleUploadedFile(name, content)},
    )
    stored = item.proof.name
    assert ".." not in stored and "passwd" not in stored and "polyglot" not in stored
    assert stored.startswith("documents/registration/")
