"""Uploaded proof documents: PDF, JPG or PNG, at most 10 MB, judged by content."""

import uuid
from pathlib import PurePath

from django.core.exceptions import ValidationError
from django.http import FileResponse
from django.utils.translation import gettext_lazy as _

MAX_BYTES = 10 * 1024 * 1024
# The first bytes of each accepted kind, and the extension it is stored under.
SIGNATURES = {b"%PDF-": ".pdf", b"\x89PNG\r\n\x1a\n": ".png", b"\xff\xd8\xff": ".jpg"}


def sniff(upload) -> str | None:
    """The stored extension for an accepted file, or None."""
    upload.seek(0)
    head = upload.read(16)
    upload.seek(0)
    return next((ext for magic, ext in SIGNATURES.items() if head.startswith(magic)), None)


def validate_document(upload) -> None:
    if upload.size > MAX_BYTES:
        raise ValidationError(_("The file is larger than 10 MB."), code="size")
    if sniff(upload) is None:
        raise ValidationError(
            _("Only PDF, JPG and PNG files are accepted (checked by content, not by name)."),
            code="type",
        )


def document_path(instance, filename: str) -> str:
    """A random name: nothing the uploader typed reaches the file system."""
    extension = PurePath(filename).suffix.lower()
    if extension not in {".pdf", ".png", ".jpg", ".jpeg"}:
        extension = ""
    return f"documents/{instance._meta.model_name}/{uuid.uuid4().hex}{extension}"


CONTENT_TYPES = {".pdf": "application/pdf", ".png": "image/png", ".jpg": "image/jpeg"}


def document_response(field_file) -> FileResponse:
    """Serve a stored document inline, typed by its content, never sniffed by the browser."""
    handle = field_file.open("rb")
    extension = sniff(handle) or ".pdf"
    response = FileResponse(handle, content_type=CONTENT_TYPES[extension])
    response["Content-Disposition"] = f'inline; filename="document{extension}"'
    response["X-Content-Type-Options"] = "nosniff"
    return response
