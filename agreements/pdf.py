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
from weasyprint import HTML

from agreements.models import Agreement
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


def canonical_content(agreement: Agreement) -> dict:
    """Everything printed on the agreement, as plain strings: the fingerprint's input."""
    employer, record, school = agreement.employer, agreement.student.record, agreement.school
    if record is None:
        raise ValueError("An agreement's student has a confirmed registry record.")
    return {
        "number": agreement.number or "",
        "employer": {
            "name": employer.name, "uscc": employer.uscc, "nature": employer.nature.name,
            "industry": employer.industry.name,
            "address": f"{employer.region.full_name}{employer.address}",
            "contact": employer.contact_name,
            "phone": employer.contact_phone or employer.contact_mobile,
            "email": employer.contact_email,
        },
        "terms": {
            "job_category": agreement.job_category.name, "position": agreement.position,
            "work_location": agreement.work_location,
            "probation": f"{agreement.probation_months} 个月",
            "probation_salary": _money(agreement.probation_salary),
            "salary": _money(agreement.salary), "penalty": _money(agreement.penalty),
            "report_place": agreement.report_place or "—",
            "report_deadline": str(agreement.report_deadline or "—"),
            "hukou": str(agreement.get_hukou_display()),
        },
        "student": {
            "name": record.name, "gender": str(record.get_gender_display()),
            "ethnicity": str(record.ethnicity), "id_number": record.id_number,
            "political_status": str(record.political_status), "school": school.name,
            "college": record.college.name, "major": record.major.name,
            "education_level": str(record.education_level),
            "graduation_date": str(record.graduation_date),
        },
        "school": {
            "name": school.name, "contact": school.contact_name, "phone": school.contact_phone,
            "address": school.address, "postcode": school.postcode,
        },
        "clauses": clauses_for(school),
        "supplement": agreement.supplement,
        "signed_on": agreement.signed_at.date().isoformat() if agreement.signed_at else "",
    }  # fmt: skip


def fingerprint(content: dict) -> str:
    """SHA-256 of the canonical content (sorted keys, UTF-8 JSON)."""
    data = json.dumps(content, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(data.encode()).hexdigest()


def verification_url(agreement: Agreement) -> str:
    return settings.SITE_URL + reverse("agreements:verify", args=[agreement.verify_token])


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


def render_agreement_pdf(agreement: Agreement) -> tuple[bytes, str]:
    """The signed PDF and the content fingerprint it was made from."""
    content = canonical_content(agreement)
    content_hash = fingerprint(content)
    url = verification_url(agreement)
    context = {
        "c": content,
        "fingerprint": content_hash,
        "verify_url": url,
        "qr": qr_data_uri(url),
        "site_url": settings.SITE_URL,
    }
    return sign_pdf(html_to_pdf(render_html(context))), content_hash
