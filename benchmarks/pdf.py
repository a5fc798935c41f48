"""Agreement PDF speed: the real (Chinese) agreement against the same template with
Latin-only data, rendered alternately in one run so machine noise hits both alike.

    .venv/bin/python benchmarks/pdf.py [--runs 15]

Target (issue 4): median(Chinese) <= 5 x median(Latin). Exits 1 when missed.

Then the archival cost (issue 17), render and sign, alternately: the PDF/A-3b with its PAdES
signature (the online agreement's signature block with the school's seal) against the plain
PDF with the former ``adbe.pkcs7.detached`` signature and blank signature lines. Reported
only (min and median ratio), no target.
"""

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "destreg.settings")

import django

django.setup()

from io import BytesIO

from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.sign import fields, signers

from agreements.pdf import (
    default_clauses,
    fingerprint,
    html_to_pdf,
    qr_data_uri,
    render_html,
)
from agreements.signing import _signer, sign_pdf

TARGET = 5.0


def chinese() -> dict:
    return {
        "number": "202619999000001",
        "employer": {"name": "上海示例软件有限公司", "uscc": "91310115MA1K000003",
                     "nature": "其他企业", "industry": "信息传输、软件和信息技术服务业",
                     "address": "上海市浦东新区张江路100号", "contact": "陈经理",
                     "phone": "021-12345678", "email": "hr@example.com"},
        "terms": {"job_category": "工程技术人员", "position": "后端开发工程师",
                  "work_location": "上海市浦东新区", "probation": "3 个月",
                  "probation_salary": "12000 元", "salary": "15000 元", "penalty": "5000 元",
                  "report_place": "上海市浦东新区张江路100号", "report_deadline": "2026-07-15",
                  "hukou": "签约单位接收"},
        "student": {"name": "王喆", "gender": "男", "ethnicity": "汉族",
                    "id_number": "310115200306060030", "political_status": "共青团员",
                    "school": "示例大学", "college": "经济管理学院", "major": "经济学",
                    "education_level": "本科生毕业", "graduation_date": "2026-06-30"},
        "school": {"name": "示例大学", "contact": "张老师", "phone": "010-62750000",
                   "address": "北京市海淀区示例路1号", "postcode": "100080"},
        "clauses": list(default_clauses()),
        "supplement": "提供人才公寓；年终奖按公司制度执行。",
        "signed_on": "2026-06-01",
    }  # fmt: skip


def latin_only(html: str) -> str:
    """The same page with every non-ASCII character replaced: no CJK glyph at all."""
    return "".join(ch if ch.isascii() else "x" for ch in html)


def context(content: dict) -> dict:
    url = "http://127.0.0.1:8000/agreements/verify/" + "T" * 43 + "/"
    return {"c": content, "fingerprint": fingerprint(content), "verify_url": url,
            "qr": qr_data_uri(url), "site_url": "http://127.0.0.1:8000"}  # fmt: skip


def seal_data_uri() -> str:
    """A 400 x 400 transparent PNG seal, as a school uploads it."""
    import base64

    from PIL import Image, ImageDraw

    image = Image.new("RGBA", (400, 400), (0, 0, 0, 0))
    ImageDraw.Draw(image).ellipse((16, 16, 384, 384), outline=(200, 20, 20, 255), width=16)
    out = BytesIO()
    image.save(out, "PNG")
    return "data:image/png;base64," + base64.b64encode(out.getvalue()).decode()


def sign_as_before(data: bytes) -> bytes:
    """The signature as it was before PAdES: ``adbe.pkcs7.detached``."""
    meta = signers.PdfSignatureMetadata(
        field_name="PlatformSignature",
        reason="就业协议书 (destreg)",
        location="CN",
        subfilter=fields.SigSeedSubFilter.ADOBE_PKCS7_DETACHED,
    )
    return signers.sign_pdf(IncrementalPdfFileWriter(BytesIO(data)), meta, _signer()).getvalue()


def archival(runs: int) -> None:
    before_html = render_html(context(chinese()))
    online = chinese() | {
        "parties": {
            "unit": {"sent_on": "2026年5月20日", "by": "陈经理"},
            "student": {"accepted_on": "2026年5月21日"},
            "school": {"approved_on": "2026年6月1日"},
        }
    }
    after_html = render_html(context(online) | {"seal": seal_data_uri()})
    steps = {
        "before": lambda: sign_as_before(html_to_pdf(before_html, archival=False)),
        "pdf/a": lambda: sign_pdf(html_to_pdf(after_html)),
    }
    for step in steps.values():  # warm-up
        step()
    timings: dict[str, list[float]] = {name: [] for name in steps}
    for _ in range(runs):
        for name, step in steps.items():
            start = time.perf_counter()
            step()
            timings[name].append(time.perf_counter() - start)
    print("render + sign, alternating")
    for name, values in timings.items():
        print(f"{name:8} median {statistics.median(values) * 1000:7.1f} ms"
              f"  min {min(values) * 1000:7.1f} ms")  # fmt: skip
    ratio_min = min(timings["pdf/a"]) / min(timings["before"])
    ratio_median = statistics.median(timings["pdf/a"]) / statistics.median(timings["before"])
    print(f"ratio pdf/a / before: min {ratio_min:.2f}, median {ratio_median:.2f}")


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=15)
    runs = parser.parse_args().runs
    chinese_html = render_html(context(chinese()))
    pages = {"chinese": chinese_html, "latin": latin_only(chinese_html)}
    for html in pages.values():  # warm-up: font loading
        html_to_pdf(html)
    timings: dict[str, list[float]] = {name: [] for name in pages}
    for _ in range(runs):
        for name, html in pages.items():
            start = time.perf_counter()
            html_to_pdf(html)
            timings[name].append(time.perf_counter() - start)
    med = {name: statistics.median(values) for name, values in timings.items()}
    ratio = med["chinese"] / med["latin"]
    print(f"runs each: {runs}, alternating")
    for name, values in timings.items():
        print(f"{name:8} median {med[name] * 1000:7.1f} ms  min {min(values) * 1000:7.1f} ms"
              f"  max {max(values) * 1000:7.1f} ms")  # fmt: skip
    print(f"ratio chinese/latin: {ratio:.2f}  (target <= {TARGET})")
    archival(runs)
    return 0 if ratio <= TARGET else 1


if __name__ == "__main__":
    sys.exit(main())
