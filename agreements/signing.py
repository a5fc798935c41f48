"""PAdES signatures on agreement PDFs with the platform's certificate (pyHanko).

The signature is PAdES proper (``/SubFilter /ETSI.CAdES.detached``, a CAdES signature with
the signing certificate attribute), added as an incremental update to the PDF/A-3b that
``agreements/pdf.py`` renders: the signed file stays PDF/A (the invisible signature field has
an empty rectangle, so it needs no appearance stream, and pyHanko writes its producer to both
the document information dictionary and the XMP metadata).

The key and certificate come from PDF_SIGNING_KEY / PDF_SIGNING_CERT. Without
them a self-signed development pair is generated once under var/signing/.
"""

import asyncio
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import timedelta
from functools import cache
from io import BytesIO
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID
from django.conf import settings
from django.utils import timezone
from pyhanko.keys import load_cert_from_pemder
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign import fields, signers
from pyhanko.sign.validation import validate_pdf_signature
from pyhanko_certvalidator import ValidationContext


def _development_pair() -> tuple[Path, Path]:
    folder = settings.VAR_DIR / "signing"
    key_path, cert_path = folder / "dev-key.pem", folder / "dev-cert.pem"
    if key_path.exists() and cert_path.exists():
        return key_path, cert_path
    return write_self_signed_pair(key_path, cert_path)


def write_self_signed_pair(key_path: Path, cert_path: Path) -> tuple[Path, Path]:
    """A self-signed signing key and certificate (development, staging, checks)."""
    key_path.parent.mkdir(parents=True, exist_ok=True)
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name(
        [
            x509.NameAttribute(NameOID.COUNTRY_NAME, "CN"),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "destreg development"),
            x509.NameAttribute(NameOID.COMMON_NAME, "destreg agreement signing (development)"),
        ]
    )
    now = timezone.now()
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(days=1))
        .not_valid_after(now + timedelta(days=3650))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=True,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=False,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .sign(key, hashes.SHA256())
    )
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    key_path.chmod(0o600)
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    return key_path, cert_path


def _paths() -> tuple[Path, Path]:
    if settings.PDF_SIGNING_KEY and settings.PDF_SIGNING_CERT:
        return Path(settings.PDF_SIGNING_KEY), Path(settings.PDF_SIGNING_CERT)
    return _development_pair()


@cache
def _signer() -> signers.SimpleSigner:
    key_path, cert_path = _paths()
    signer = signers.SimpleSigner.load(str(key_path), str(cert_path))
    if signer is None:
        raise RuntimeError(f"Cannot load the PDF signing key {key_path}")
    return signer


@cache
def _validation_context() -> ValidationContext:
    _key, cert_path = _paths()
    return ValidationContext(trust_roots=[load_cert_from_pemder(str(cert_path))])


def sign_pdf(data: bytes) -> bytes:
    """Sign ``data``. pyHanko runs an event loop of its own, so when the caller already
    runs one in this thread (an async view, a browser-driving test) sign in a helper thread."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return _sign(data)
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(_sign, data).result()


def _sign(data: bytes) -> bytes:
    writer = IncrementalPdfFileWriter(BytesIO(data))
    meta = signers.PdfSignatureMetadata(
        field_name="PlatformSignature",
        reason="就业协议书 (destreg)",
        location="CN",
        subfilter=fields.SigSeedSubFilter.PADES,
    )
    out = signers.sign_pdf(writer, meta, signer=_signer())
    return out.getvalue()


@dataclass(frozen=True)
class SignatureCheck:
    signed: bool  # carries a signature at all
    sound: bool  # intact and cryptographically valid, covering the whole file
    trusted: bool  # made with the platform's certificate


def check_pdf_signature(data: bytes) -> SignatureCheck:
    """Whether ``data`` is a PDF signed by the platform and unchanged since."""
    try:
        reader = PdfFileReader(BytesIO(data))
        embedded = reader.embedded_signatures
    except Exception:  # not a PDF, or a broken one
        return SignatureCheck(False, False, False)
    if not embedded:
        return SignatureCheck(False, False, False)
    signature = embedded[-1]
    try:
        status = validate_pdf_signature(signature, _validation_context())
    except Exception:
        return SignatureCheck(True, False, False)
    covers_all = signature.coverage is not None and signature.coverage.name == "ENTIRE_FILE"
    sound = status.intact and status.valid and covers_all
    return SignatureCheck(True, sound, sound and status.trusted)
