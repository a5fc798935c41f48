"""The 就业协议书 PDF: canonical content, fingerprint and rendering.

``render_agreement_pdf`` is pure: an agreement in, signed PDF bytes out, no
request. The task in ``agreements/tasks.py`` stores the result.

The file is archival: PDF/A-3b (WeasyPrint's ``pdf/a-3b`` variant: fonts embedded, an sRGB
output intent, XMP metadata with ``pdfaid:part=3``, ``pdfaid:conformance=B``), then signed
as PAdES by ``agreements/signing.py`` in an incremental update, which keeps it PDF/A.
"""

import base64
import hashlib
import io
import json
from functools import cache
from pathlib import Path

import qrcode
from django.conf import settings
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation
from weasyprint import HTML

from agreements.models import Agreement, Registration
from agreements.signing import sign_pdf
from destreg.lib.uploads import sniff

DEFAULT_CLAUSES = Path(__file__).resolve().parent / "data" / "default_clauses.txt"


@cache
def default_clauses() -> tuple[str, ...]:
    return tuple(line for line in DEFAULT_CLAUSES.read_text(encoding="utf-8").splitlines() if line)


def clauses_for(school) -> list[str]:
    own = [line.strip() for line in school.agreement_clauses.splitlines() if line.strip()]
    return own or list(default_clauses())


def _money(value) -> str:
    return f"{value} 元" if value is not None else "—"


def _unit(doc: Agreement | Registration) -> dict:
    """甲方: the registered employer of an online agreement, or the unit a student typed."""
    if isinstance(doc, Agreement):
        e = doc.employer
        return {
            "name": doc.unit_name or e.name,  # as the agreement was made with it
            "uscc": doc.unit_uscc or e.uscc,
            "nature": e.nature.name,
            "industry": e.industry.name,
            "address": f"{e.region.full_name}{e.address}",
            "contact": e.contact_name,
            "phone": e.contact_phone or e.contact_mobile,
            "email": e.contact_email,
        }
    region = doc.unit_region.full_name if doc.unit_region else ""
    return {
        "name": doc.unit_name,
        "uscc": doc.unit_uscc,
        "nature": str(doc.unit_nature or ""),
        "industry": str(doc.unit_industry or ""),
        "address": f"{region}{doc.unit_address}",
        "contact": doc.contact_name,
        "phone": doc.contact_phone or doc.contact_mobile,
        "email": doc.contact_email,
    }


def canonical_content(doc: Agreement | Registration) -> dict:
    """Everything printed on the agreement, as plain strings: the fingerprint's input.

    In Chinese whatever language the page that queued it shows: code names and choice
    labels follow the active language."""
    with translation.override(settings.LANGUAGE_CODE):
        return _content(doc)


def _day(moment) -> str:
    day = timezone.localdate(moment)
    return f"{day.year}年{day.month}月{day.day}日"


def _parties(doc: Agreement | Registration) -> dict | None:
    """Who did what and when, for the signature block of an online agreement; None for an
    offline or paper one, whose parties sign and stamp the printed page."""
    if not isinstance(doc, Agreement):
        return None
    invitation = doc.invitation
    sender = invitation.sent_by
    if sender is not None:
        by = sender.display_name or sender.username
    else:  # 扫码签约: the contact who confirmed through the unit's link
        by = invitation.unit_request.contact_name  # type: ignore[attr-defined]
    return {
        "unit": {
            "sent_on": _day(invitation.created_at),
            "by": by,
        },
        "student": {"accepted_on": _day(doc.created_at)},
        "school": {"approved_on": _day(doc.signed_at) if doc.signed_at else ""},
    }


def _content(doc: Agreement | Registration) -> dict:
    record, school = doc.student.record, doc.school
    if record is None:
        raise ValueError("An agreement's student has a confirmed registry record.")
    agreement = doc
    return {
        "number": doc.number or "",
        "employer": _unit(doc),
        "terms": {
            "job_category": str(agreement.job_category or ""),
            "position": agreement.position,
            "work_location": agreement.work_location,
            "probation": f"{agreement.probation_months} 个月",
            "probation_salary": _money(agreement.probation_salary),
            "salary": _money(agreement.salary),
            "penalty": _money(agreement.penalty),
            "report_place": agreement.report_place or "—",
            "report_deadline": str(agreement.report_deadline or "—"),
            "hukou": str(agreement.get_hukou_display()),
        },
        "student": {
            "name": record.name,
            "gender": str(record.get_gender_display()),
            "ethnicity": str(record.ethnicity),
            "id_number": record.id_number,
            "political_status": str(record.political_status),
            "school": school.name,
            "college": record.college.name,
            "major": record.major.name,
            "education_level": str(record.education_level),
            "graduation_date": str(record.graduation_date),
        },
        "school": {
            "name": school.name,
            "contact": school.contact_name,
            "phone": school.contact_phone,
            "address": school.address,
            "postcode": school.postcode,
        },
        "clauses": clauses_for(school),
        "supplement": agreement.supplement,
        "signed_on": timezone.localdate(agreement.signed_at).isoformat()
        if agreement.signed_at
        else "",
        "parties": _parties(doc),
    }


def fingerprint(content: dict) -> str:
    """SHA-256 of the canonical content (sorted keys, UTF-8 JSON)."""
    data = json.dumps(content, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(data.encode()).hexdigest()


def verification_url(doc: Agreement | Registration) -> str:
    return settings.SITE_URL + reverse("agreements:verify", args=[doc.verify_token])


def qr_data_uri(text: str) -> str:
    image = qrcode.make(text, box_size=6, border=2)
    out = io.BytesIO()
    image.save(out, format="PNG")
    return "data:image/png;base64," + base64.b64encode(out.getvalue()).decode()


def render_html(context: dict) -> str:
    return render_to_string("agreements/pdf/agreement.html", context)


def school_seal(doc: Agreement | Registration) -> str | None:
    """The school's seal image (a data URI) for 丙方's signature, or None.

    Placed by the platform only on an online agreement the school has approved (it has its
    ``signed_at``), never on one still under review; offline and paper agreements are stamped
    on paper. None too when the school has uploaded no seal."""
    if not isinstance(doc, Agreement) or doc.signed_at is None or not doc.school.seal:
        return None
    with doc.school.seal.open("rb") as handle:
        data = handle.read()
    mime = "image/png" if sniff(io.BytesIO(data)) == ".png" else "image/jpeg"
    return f"data:{mime};base64," + base64.b64encode(data).decode()


def _without_producer(_document, pdf) -> None:
    """WeasyPrint finisher: drop the information dictionary's /Producer. pyHanko, signing,
    appends itself to an existing /Producer but writes only itself to the XMP metadata's
    ``pdf:Producer``; PDF/A wants the two to agree, so the signer alone writes both."""
    pdf.info.pop("Producer", None)


def html_to_pdf(html: str, *, archival: bool = True) -> bytes:
    """Unsigned PDF bytes, PDF/A-3b unless ``archival`` is False (benchmarks/pdf.py times
    this step both ways)."""
    document = HTML(string=html, base_url=str(settings.BASE_DIR))
    if not archival:
        return document.write_pdf()
    return document.write_pdf(pdf_variant="pdf/a-3b", finisher=_without_producer)


def render_agreement_pdf(doc: Agreement | Registration) -> tuple[bytes, str]:
    """The signed PDF and the content fingerprint it was made from.

    An offline e-agreement is printed for stamping until the school accepts the
    stamped scan, and says so on the page.
    """
    content = canonical_content(doc)
    content_hash = fingerprint(content)
    url = verification_url(doc)
    context = {
        "c": content,
        "fingerprint": content_hash,
        "verify_url": url,
        "qr": qr_data_uri(url),
        "site_url": settings.SITE_URL,
        "stamp_required": isinstance(doc, Registration) and doc.status != doc.Status.APPROVED,
        "seal": school_seal(doc),
    }
    return sign_pdf(html_to_pdf(render_html(context))), content_hash
