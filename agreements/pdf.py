"""The 就业协议书 PDF: canonical content, fingerprint and rendering.

``render_agreement_pdf`` is pure: an agreement in, signed PDF bytes out, no
request. The task in ``agreements/tasks.py`` stores the result.
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
            "name": e.name,
            "uscc": e.uscc,
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


def html_to_pdf(html: str) -> bytes:
    """Unsigned PDF bytes (benchmarks/pdf.py times this step)."""
    return HTML(string=html, base_url=str(settings.BASE_DIR)).write_pdf()


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
    }
    return sign_pdf(html_to_pdf(render_html(context))), content_hash
