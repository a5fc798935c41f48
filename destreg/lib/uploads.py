"""Uploaded proof documents: PDF, JPG or PNG, at most 10 MB, judged by content.

A file passes only if it is genuinely one of the three formats and nothing else: reviewers open
these files in their browsers, so a PDF that is also a ZIP, or a PNG that is also a web page, must
not get through just because its first bytes look right.

What is stored is not the upload but the document rebuilt from it (``clean_document``, used by
``DocumentField``): images are re-encoded from their pixels, so EXIF (a phone photo's GPS
position), text chunks and any bytes after the picture are gone; PDFs are re-written through
pypdf's writer, which keeps only what the document references, without its metadata. The one
exception is a PDF whose digital signature is intact and covers the whole file: re-writing would
break the signature, and every byte of it is vouched for by the signer, so it is kept as it is
(after passing the same checks).
"""

import hashlib
import re
import struct
import threading
import uuid
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from io import BytesIO
from pathlib import PurePath

from django import forms
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile, UploadedFile
from django.http import FileResponse
from django.utils.translation import gettext_lazy as _
from PIL import ExifTags, Image, ImageOps
from PIL.ImageFile import ImageFile
from pypdf import PdfReader, PdfWriter
from pypdf.generic import (
    ArrayObject,
    ByteStringObject,
    DictionaryObject,
    IndirectObject,
    NameObject,
    TextStringObject,
)

MAX_BYTES = 10 * 1024 * 1024
# The first bytes of each accepted kind, and the extension it is stored under.
SIGNATURES = {b"%PDF-": ".pdf", b"\x89PNG\r\n\x1a\n": ".png", b"\xff\xd8\xff": ".jpg"}

TYPE_MESSAGE = _("Only PDF, JPG and PNG files are accepted (checked by content, not by name).")
POLYGLOT_MESSAGE = _(
    "This file also contains web page, script or archive data. Scan or photograph the document "
    "again, or print it to a new PDF, then upload again."
)
ACTIVE_CONTENT_MESSAGE = _(
    "This PDF contains scripts, attachments, media, actions that run when it is opened, or links "
    "to something other than a web page or an e-mail address. Print it to a new PDF or scan it, "
    "then upload again."
)
ENCRYPTED_MESSAGE = _(
    "This PDF is password-protected, so reviewers cannot open it. Remove the password or print "
    "it to a new PDF, then upload again."
)
BAD_PDF_MESSAGE = _(
    "This file is not a valid PDF or it is damaged. Print it to a new PDF or scan it, then upload "
    "again."
)
BAD_IMAGE_MESSAGE = _(
    "This image is damaged or has extra data after the picture. Save it again as a new JPG or "
    "PNG, then upload again."
)
# A document image is a scan or a photo of a page: an A4 page scanned at 600 dpi has 35 million
# pixels. Every image is decoded once to be re-encoded (clean_document), which holds 3-4 bytes a
# pixel in memory, so the cap is far below Pillow's own limit (89 million, meant for any image):
# even before logging in, anyone can upload an employer's registration documents.
MAX_DOCUMENT_PIXELS = 40_000_000
TOO_MANY_PIXELS_MESSAGE = _(
    "This image has more than %(limit)s million pixels. Reduce its resolution (300 dpi is plenty "
    "for a page), then upload again."
)
# What the pixels may take in memory while an image is rebuilt (Pillow holds 4 bytes a pixel
# for colour, 1 for greyscale or a palette; a rotation or conversion holds a second copy). A
# JPEG over it is decoded at 1/2, 1/4 or 1/8 scale instead (cheap: the decoder skips detail);
# a PNG cannot be, so it is refused: a 154 KB blank PNG of 40 million RGBA pixels takes 160 MB.
MAX_DECODED_BYTES = 128 * 1024 * 1024
TOO_LARGE_IMAGE_MESSAGE = _(
    "This image is too large to process. Reduce its resolution (300 dpi is plenty for a page), "
    "save it without transparency, or save it as JPG, then upload again."
)
# How many documents one process rebuilds at a time (each may take MAX_DECODED_BYTES), and how
# long an upload waits for its turn before the uploader is asked to try again.
MAX_CONCURRENT_REBUILDS = 2
REBUILD_WAIT_SECONDS = 30
BUSY_MESSAGE = _("The server is busy processing other documents. Please upload again shortly.")
_REBUILDS = threading.BoundedSemaphore(MAX_CONCURRENT_REBUILDS)


def sniff(upload) -> str | None:
    """The stored extension for an accepted file, or None."""
    upload.seek(0)
    head = upload.read(16)
    upload.seek(0)
    return next((ext for magic, ext in SIGNATURES.items() if head.startswith(magic)), None)


def validate_document(upload) -> None:
    """Refuse anything that is not purely a PDF, PNG or JPEG of at most 10 MB.

    Used as a form field validator, so it receives an UploadedFile. Side effect: the file is read
    and its position is put back at 0, so the form can still save it.
    """
    if upload.size > MAX_BYTES:
        raise ValidationError(_("The file is larger than 10 MB."), code="size")
    extension = sniff(upload)
    if extension is None:
        raise ValidationError(TYPE_MESSAGE, code="type")
    try:
        _reject_polyglot(upload)
        {".pdf": _check_pdf, ".png": _check_png, ".jpg": _check_jpeg}[extension](upload)
    finally:
        upload.seek(0)


# --- any format -----------------------------------------------------------------------------

# Markup that a browser or interpreter would act on if it ever treated the file as a page or a
# script. An HTML or XML tag name ends at whitespace, "/" or ">", so a tag only counts with one of
# those after it: that keeps "<svg" from matching by chance in 10 MB of compressed image data.
MARKUP = re.compile(rb"<(?:script|html|iframe|svg)[\t\n\x0c\r />]|<\?php", re.IGNORECASE)
MARKUP_OVERLAP = 16  # longer than any match, so a match split between two chunks is still found
ZIP_END_RECORD = b"PK\x05\x06"
# ZIP readers (unzip, Python, Java for JARs) look for the end-of-central-directory record only in
# the last 22 bytes plus the longest possible archive comment, so that is where a ZIP hidden in a
# PDF or JPEG must have it. Looking only there keeps 10 MB of compressed data from matching by
# chance.
ZIP_END_REACH = 22 + 0xFFFF
SCAN_CHUNK = 1024 * 1024


def _reject_polyglot(upload) -> None:
    """Refuse a file that is also a web page, a script or a ZIP archive (JAR, DOCX, …).

    Such a file is harmless as the format it claims to be, but dangerous to whoever opens it as the
    other: a browser that sniffs it as HTML, a PHP interpreter, a Java runtime.
    """
    carry = b""
    for chunk in upload.chunks(SCAN_CHUNK):
        window = carry + chunk
        if MARKUP.search(window):
            raise ValidationError(POLYGLOT_MESSAGE, code="polyglot")
        carry = window[-MARKUP_OVERLAP:]
    upload.seek(max(0, upload.size - ZIP_END_REACH))
    if ZIP_END_RECORD in upload.read():
        raise ValidationError(POLYGLOT_MESSAGE, code="polyglot")
    # And what a ZIP reader itself says (it also knows ZIP64's end records).
    upload.seek(0)
    if zipfile.is_zipfile(upload):
        raise ValidationError(POLYGLOT_MESSAGE, code="polyglot")


# --- PDF ------------------------------------------------------------------------------------

PDF_WHITESPACE = b"\x00\t\n\x0c\r "
# Keys and values that make a PDF do something when opened, or carry another file inside.
ACTIVE_KEYS = frozenset(
    {
        "/JS",  # JavaScript action
        "/JavaScript",  # document-level JavaScript name tree
        "/EmbeddedFiles",  # attachments name tree
        "/EF",  # a file specification with the file embedded
        "/XFA",  # XML forms, which carry their own scripts
    }
)
ACTIVE_KEYS_ANYWHERE = frozenset(
    {
        "/AA",  # additional actions: run when a page, field or the document is opened, closed, …
    }
)
ACTIVE_VALUES = {
    # Actions that run code, open other files (a remote /GoToR can leak Windows credentials
    # through a UNC path), send the reader's data somewhere or play media (whose players
    # have their own scripts and fetch what they play).
    "/S": {
        "/JavaScript",
        "/Launch",
        "/GoToR",
        "/GoToE",
        "/SubmitForm",
        "/ImportData",
        "/Rendition",
        "/Sound",
        "/Movie",
        "/RichMediaExecute",
    },
    # Annotations that carry a file, or media and 3D content with its own scripts.
    "/Subtype": {"/FileAttachment", "/Sound", "/Movie", "/Screen", "/RichMedia", "/3D"},
}
# A link may lead to a web page or an e-mail address; any other target (file:, javascript:,
# a UNC path, a relative name resolved against something else) is refused.
SAFE_URI = re.compile(r"(?:https?|mailto):", re.IGNORECASE)
# A scanned 200-page PDF has about a thousand objects; this bounds the time a hostile one costs.
MAX_PDF_OBJECTS = 100_000


class _PdfTooComplex(Exception):
    pass


def _check_pdf(upload) -> None:
    """A real PDF with at least one page, nothing appended and nothing that runs or is attached.

    pypdf reads in non-strict mode, as a viewer would, so flaws it can work around (a wrong xref
    offset) pass; anything it cannot make sense of means the file is refused. (Its warnings
    about those flaws are silenced in settings.LOGGING: uploads would fill the log with them.)
    """
    if not _pdf_ends_at_eof(upload):
        raise ValidationError(BAD_PDF_MESSAGE, code="malformed")
    upload.seek(0)
    try:
        with PdfReader(upload, strict=False) as reader:
            problem = _pdf_problem(reader)
    # Hostile or broken input makes pypdf raise almost anything (PdfReadError, KeyError,
    # RecursionError, …); all of it means the same to the uploader.
    except Exception as error:
        raise ValidationError(BAD_PDF_MESSAGE, code="malformed") from error
    if problem is not None:
        raise problem


def _pdf_problem(reader: PdfReader) -> ValidationError | None:
    if reader.is_encrypted:  # checked first: nothing else can be read without the password
        return ValidationError(ENCRYPTED_MESSAGE, code="encrypted")
    if len(reader.pages) == 0:
        return ValidationError(BAD_PDF_MESSAGE, code="malformed")
    if _pdf_has_active_content(reader):
        return ValidationError(ACTIVE_CONTENT_MESSAGE, code="active_content")
    return None


def _pdf_ends_at_eof(upload) -> bool:
    """Whether nothing but whitespace follows the last %%EOF.

    A viewer stops at %%EOF, so whatever comes after it is there for some other program (an
    appended ZIP, a web page); a truncated download has no %%EOF at its end at all.
    """
    upload.seek(max(0, upload.size - 1024))
    return upload.read().rstrip(PDF_WHITESPACE).endswith(b"%%EOF")


def _pdf_has_active_content(reader: PdfReader) -> bool:
    """Whether any object reachable from the trailer runs something or carries a file.

    The whole object graph is walked rather than a few well-known places, because actions can
    hang off the catalog (/OpenAction, /AA, /Names), any page, annotation or form field.
    """
    seen: set[tuple[int, int]] = set()
    stack: list[object] = [reader.trailer]
    while stack:
        node = stack.pop()
        if isinstance(node, IndirectObject):
            if (node.idnum, node.generation) in seen:
                continue
            seen.add((node.idnum, node.generation))
            if len(seen) > MAX_PDF_OBJECTS:
                raise _PdfTooComplex
            node = node.get_object()
        if isinstance(node, DictionaryObject):
            if _is_active(node):
                return True
            stack.extend(dict.values(node))  # unresolved, so each object is loaded once
        elif isinstance(node, ArrayObject):
            stack.extend(node)
    return False


def _is_active(node: DictionaryObject) -> bool:
    """Whether this one dictionary is a script, a launch, an attachment, media, an action run on
    opening, a link to anything but a web page or e-mail address, or a form with scripts."""
    if not ACTIVE_KEYS.isdisjoint(node.keys()):
        return True
    if not ACTIVE_KEYS_ANYWHERE.isdisjoint(node.keys()):
        return True
    # What the document does when opened may only be to show a page (a destination, an array);
    # an action there (even a link) would run without the reviewer choosing to.
    open_action = node.get("/OpenAction")
    if open_action is not None and not isinstance(open_action.get_object(), ArrayObject):
        return True
    uri = node.get("/URI")
    uri = uri.get_object() if uri is not None else None
    # A URI action's target (the catalog's /URI dictionary, a base for relative links, is not
    # a string; relative links are refused anyway).
    if isinstance(uri, TextStringObject | ByteStringObject) and not _safe_uri(uri):
        return True
    for key, names in ACTIVE_VALUES.items():
        value = node.get(key)
        # Only a name can match; other values (a dictionary, say) could not even be looked up.
        value = value.get_object() if value is not None else None
        if isinstance(value, NameObject) and value in names:
            return True
    return False


def _safe_uri(uri: TextStringObject | ByteStringObject) -> bool:
    text = uri if isinstance(uri, str) else bytes(uri).decode("latin-1")
    return SAFE_URI.match(text) is not None


# --- PNG and JPEG ---------------------------------------------------------------------------

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
JPEG_END = b"\xff\xd9"


def _check_png(upload) -> None:
    """A PNG that Pillow verifies (chunk checksums) and that ends with its IEND chunk."""
    with _reading_image():
        image = _open_image(upload, "PNG")
        if _decoded_bytes(image) > MAX_DECODED_BYTES:
            raise ValidationError(TOO_LARGE_IMAGE_MESSAGE, code="too_large")
        image.verify()
    if _png_end(upload) != upload.size:
        raise ValidationError(BAD_IMAGE_MESSAGE, code="malformed")


def _png_end(upload) -> int:
    """The offset just past the first IEND chunk: where every PNG reader stops.

    Only chunk headers are read (length, type), hopping over the data, so this costs a few reads
    for an ordinary image. Pillow has already checked the chunks up to IEND.
    """
    offset = len(PNG_MAGIC)
    while True:
        upload.seek(offset)
        header = upload.read(8)
        if len(header) < 8:
            raise ValidationError(BAD_IMAGE_MESSAGE, code="malformed")
        length, kind = struct.unpack(">I4s", header)
        offset += 12 + length  # length and type, data, checksum
        if kind == b"IEND":
            return offset


def _check_jpeg(upload) -> None:
    """A JPEG that Pillow decodes and that ends with an end-of-image marker.

    Pillow's verify() checks nothing for JPEG, so the image is decoded instead, at 1/8 scale to
    stay cheap: that still reads all of the compressed data. Phone photos may hold further JPEG
    images after the first (MPO, depth maps, HDR gain maps), each ending with its own
    end-of-image marker, so it is the file as a whole that must end with one.
    """
    with _reading_image():
        image = _open_image(upload, "JPEG", "MPO")
        image.draft("L", (max(1, image.width // 8), max(1, image.height // 8)))
        image.load()
    upload.seek(upload.size - len(JPEG_END))
    if upload.read() != JPEG_END:
        raise ValidationError(BAD_IMAGE_MESSAGE, code="malformed")


def _open_image(upload, *formats: str) -> ImageFile:
    """Open an upload with Pillow as one of the expected formats; refuse anything else.

    Only the expected plugins may parse the file, so it cannot be read as some other format
    that merely shares its first bytes. Images over ``MAX_DOCUMENT_PIXELS`` (or Pillow's limit,
    if lower) are refused from the size in their header, before anything is decoded: a few
    hundred kilobytes of PNG can inflate to gigabytes (a decompression bomb).
    """
    upload.seek(0)
    image = Image.open(upload, formats=formats)
    if image.format not in formats:
        raise ValidationError(TYPE_MESSAGE, code="type")
    limit = min(MAX_DOCUMENT_PIXELS, Image.MAX_IMAGE_PIXELS or MAX_DOCUMENT_PIXELS)
    if image.width * image.height > limit:
        raise _too_many_pixels()
    return image


def _decoded_bytes(image: Image.Image) -> int:
    """What Pillow holds in memory for the image's pixels once decoded."""
    if image.mode in ("1", "L", "P"):
        per_pixel = 1
    elif image.mode.startswith("I;16"):
        per_pixel = 2
    else:
        per_pixel = 4  # RGB too: Pillow pads each pixel to 4 bytes
    return image.width * image.height * per_pixel


def _too_many_pixels() -> ValidationError:
    return ValidationError(
        TOO_MANY_PIXELS_MESSAGE,
        code="dimensions",
        params={"limit": MAX_DOCUMENT_PIXELS // 1_000_000},
    )


@contextmanager
def _reading_image() -> Iterator[None]:
    """Turn whatever Pillow raises on broken or hostile input into a refusal."""
    try:
        yield
    except ValidationError:
        raise
    # Pillow raises the error past twice its pixel limit and only warns between once and twice;
    # _open_image checks the limit itself, the warning only arrives here where it is an error.
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as error:
        raise _too_many_pixels() from error
    except Exception as error:  # Pillow raises many kinds (OSError, SyntaxError, …)
        raise ValidationError(BAD_IMAGE_MESSAGE, code="malformed") from error


# --- the school's electronic seal -----------------------------------------------------------

# A seal is a small picture (a 42 mm stamp scanned at 600 dpi is about 1,000 pixels across),
# printed by the platform on every agreement the school approves.
SEAL_MAX_BYTES = 1024 * 1024
SEAL_MAX_SIDE = 2000
SEAL_TYPE_MESSAGE = _("The seal must be a PNG or JPG image (checked by content, not by name).")
SEAL_SIZE_MESSAGE = _("The seal image is larger than 1 MB.")
SEAL_SIDE_MESSAGE = _("The seal image is larger than %(side)s × %(side)s pixels.")


def validate_seal_image(upload) -> None:
    """Refuse anything but a genuine PNG or JPEG of at most 1 MB and 2000 × 2000 pixels.

    The same content checks as a proof document (``validate_document``: Pillow decodes it,
    nothing after the picture, no markup or archive inside). Side effect: the position is put
    back at 0."""
    if upload.size > SEAL_MAX_BYTES:
        raise ValidationError(SEAL_SIZE_MESSAGE, code="size")
    extension = sniff(upload)
    if extension not in (".png", ".jpg"):
        raise ValidationError(SEAL_TYPE_MESSAGE, code="type")
    validate_document(upload)
    try:
        with _reading_image():
            image = _open_image(upload, *(("PNG",) if extension == ".png" else ("JPEG", "MPO")))
            if max(image.size) > SEAL_MAX_SIDE:
                raise ValidationError(
                    SEAL_SIDE_MESSAGE, code="dimensions", params={"side": SEAL_MAX_SIDE}
                )
    finally:
        upload.seek(0)


def validate_stored_seal(value) -> None:
    """Model field validator: a newly assigned seal file passes ``validate_seal_image``; the
    one already stored was checked when it was uploaded."""
    if value and not getattr(value, "_committed", True):
        validate_seal_image(value)


def seal_path(instance, filename: str) -> str:
    """A random name; the extension from the rebuilt image (``rebuild_document``)."""
    extension = ".png" if PurePath(filename).suffix.lower() == ".png" else ".jpg"
    return f"seals/{uuid.uuid4().hex}{extension}"


# --- what is stored: the document rebuilt from the upload ------------------------------------

JPEG_QUALITY = 90


def clean_document(upload) -> UploadedFile:
    """Validate ``upload`` (as ``validate_document``), then return the file to store instead.

    See ``rebuild_document``. Raises ValidationError with the same codes as
    ``validate_document`` (and ``busy``).
    """
    validate_document(upload)
    return rebuild_document(upload)


def rebuild_document(upload) -> UploadedFile:
    """The file to store instead of ``upload``, which ``validate_document`` has accepted.

    This is the costly part (images are decoded, PDFs parsed again), so a form does it only
    once everything else in it is valid (``DocumentForm``), and at most
    ``MAX_CONCURRENT_REBUILDS`` run at once in a process. The result holds only the document:
    images re-encoded from their pixels (EXIF, ICC and text chunks, trailing bytes and further
    MPO pictures dropped; a phone's EXIF rotation applied first so the picture stays upright),
    PDFs re-written through pypdf without metadata, unless
    signed over the whole file (see the module docstring). Its name is ``document.<ext>``.
    """
    extension = sniff(upload)
    upload.seek(0)
    if not _REBUILDS.acquire(timeout=REBUILD_WAIT_SECONDS):
        raise ValidationError(BUSY_MESSAGE, code="busy")
    try:
        if extension == ".pdf":
            data = _clean_pdf(upload)
        else:
            data = _reencode_image(upload, "PNG" if extension == ".png" else "JPEG")
    finally:
        _REBUILDS.release()
        upload.seek(0)
    return SimpleUploadedFile(f"document{extension}", data, CONTENT_TYPES[str(extension)])


def _reencode_image(upload, kind: str) -> bytes:
    """The image re-encoded from its pixels, holding at most ``MAX_DECODED_BYTES`` of them."""
    with _reading_image():
        image: Image.Image = _open_image(upload, *(("PNG",) if kind == "PNG" else ("JPEG", "MPO")))
        if kind == "JPEG":
            # A JPEG's orientation is in its header: known before decoding.
            copies = 2 if _needs_turning(image) or image.mode not in ("L", "RGB", "CMYK") else 1
            scale = 1
            while scale < 8 and _decoded_bytes(image) * copies > MAX_DECODED_BYTES * scale**2:
                scale *= 2
            if scale > 1:
                image.draft(image.mode, (image.width // scale, image.height // scale))
        elif _decoded_bytes(image) > MAX_DECODED_BYTES:
            raise ValidationError(TOO_LARGE_IMAGE_MESSAGE, code="too_large")
        image.load()
        if _needs_turning(image):  # a PNG's eXIf chunk may follow its pixels
            if kind == "PNG" and 2 * _decoded_bytes(image) > MAX_DECODED_BYTES:
                raise ValidationError(TOO_LARGE_IMAGE_MESSAGE, code="too_large")
            ImageOps.exif_transpose(image, in_place=True)
    if kind == "JPEG" and image.mode not in ("L", "RGB", "CMYK"):
        image = image.convert("RGB")
    # Only transparency survives: it is part of the picture. Everything else Pillow would
    # carry over from the source (EXIF, ICC profile, text, dpi) is dropped.
    image.info = {k: v for k, v in image.info.items() if kind == "PNG" and k == "transparency"}
    buffer = BytesIO()
    if kind == "JPEG":
        image.save(buffer, "JPEG", quality=JPEG_QUALITY)
    else:
        image.save(buffer, "PNG")
    return buffer.getvalue()


def _needs_turning(image: Image.Image) -> bool:
    """Whether the image's EXIF orientation asks for it to be turned or mirrored."""
    return image.getexif().get(ExifTags.Base.Orientation, 1) not in (0, 1)


def _clean_pdf(upload) -> bytes:
    """The PDF re-written through pypdf, or kept when a whole-file signature vouches for it."""
    original = upload.read()
    if _signed_over_whole_file(original):
        return original
    try:
        with PdfReader(BytesIO(original), strict=False) as reader:
            writer = PdfWriter(clone_from=reader)
        writer.metadata = None  # the /Info dictionary: author, producer, dates
        writer.root_object.pop(NameObject("/Metadata"), None)  # the XMP stream
        buffer = BytesIO()
        writer.write(buffer)
    except Exception as error:  # the reader accepted it, so this is pypdf's limit, not a trick
        raise ValidationError(BAD_PDF_MESSAGE, code="malformed") from error
    data = buffer.getvalue()
    # pypdf copies stream contents as they are: check what will be stored once more.
    validate_document(SimpleUploadedFile("document.pdf", data))
    return data


def _signed_over_whole_file(data: bytes) -> bool:
    """Whether the last signature is intact and cryptographically sound over every byte.

    Trust in the signer's certificate is not needed (a unit's e-seal comes from its own CA):
    what matters is that nothing in the file lies outside what was signed.
    """
    from pyhanko.pdf_utils.reader import PdfFileReader
    from pyhanko.sign.validation.generic_cms import validate_sig_integrity

    try:
        signatures = PdfFileReader(BytesIO(data), strict=False).embedded_signatures
        if not signatures:
            return False
        signature = signatures[-1]
        intact, valid = validate_sig_integrity(
            signature.signer_info,
            signature.signer_cert,
            expected_content_type="data",
            actual_digest=signature.compute_digest(),
        )
        coverage = signature.evaluate_signature_coverage()
    except Exception:  # an unreadable or bogus signature just means: re-write the file
        return False
    return intact and valid and coverage.name == "ENTIRE_FILE"


class DocumentField(forms.FileField):
    """A form field for a proof document, in a ``DocumentForm``.

    The field itself makes the cheap checks (``validate_document``: size, type, markup, headers);
    the form replaces the upload with the rebuilt document once everything else is valid.
    Every upload a user makes goes through one of these; ``validate_document`` alone is for
    files that are checked but not stored (e.g. a PDF compared with a genuine agreement).
    """

    def __init__(self, **kwargs):
        kwargs.setdefault("help_text", _("PDF, JPG or PNG, at most 10 MB."))
        super().__init__(**kwargs)

    def clean(self, data, initial=None):
        value = super().clean(data, initial)
        if isinstance(value, UploadedFile):  # not the stored file kept, nor False for "clear"
            validate_document(value)
        return value


class DocumentForm(forms.BaseForm):
    """A form with ``DocumentField``s (mixed in before ``forms.Form`` or ``forms.ModelForm``).

    Its cleaned documents are the rebuilt ones (``rebuild_document``), made only when every
    field and the form's own ``clean()`` passed: decoding an image may take a hundred
    megabytes, which an anonymous form that is refused anyway must not cost. (A ModelForm's
    model validation runs after this, as Django's ``_post_clean`` builds the instance from the
    cleaned data.)
    """

    def _clean_form(self) -> None:
        super()._clean_form()  # type: ignore[misc]
        if self.errors:
            return
        for name, field in self.fields.items():
            value = self.cleaned_data.get(name)
            if isinstance(field, DocumentField) and isinstance(value, UploadedFile):
                try:
                    self.cleaned_data[name] = rebuild_document(value)
                except ValidationError as error:
                    self.add_error(name, error)


def file_sha256(file) -> str:
    """The SHA-256 (hex) of a file's content, read in chunks; an open file is left at its
    start, a stored one is opened and closed."""
    digest = hashlib.sha256()
    if getattr(file, "closed", False) or not hasattr(file, "chunks"):
        with file.open("rb") as handle:
            for chunk in iter(lambda: handle.read(1 << 16), b""):
                digest.update(chunk)
        return digest.hexdigest()
    file.seek(0)
    for chunk in file.chunks():
        digest.update(chunk)
    file.seek(0)
    return digest.hexdigest()


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
