"""Agreement PDF speed: the real (Chinese) agreement against the same template with
Latin-only data, rendered alternately in one run so machine noise hits both alike.

    .venv/bin/python benchmarks/pdf.py [--runs 15]

Target (issue 4): median(Chinese) <= 5 x median(Latin). Exits 1 when missed.
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

from agreements.pdf import (
    default_clauses,
    fingerprint,
    html_to_pdf,
    qr_data_uri,
    render_html,
)

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
    return 0 if ratio <= TARGET else 1


if __name__ == "__main__":
    sys.exit(main())
