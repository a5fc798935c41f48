"""Annual report speed: the figures (a pure function of the rows) and the PDF, for a class of
2,000 and one of 20,000 graduates (synthetic rows: 20 colleges, 200 majors, every province),
alternately in one run so machine noise hits both alike. Reading the rows from the database
(``live_rows``) is not timed here: it is the export's two queries per chunk.

    .venv/bin/python benchmarks/annual_report.py [--runs 5]
"""

import argparse
import os
import random
import statistics
import sys
import time
from pathlib import Path
from types import SimpleNamespace

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "destreg.settings")

import django

django.setup()

from reviews.annual import GraduateRow, figures
from reviews.annual_report import render_annual_pdf

CODES = ["10", "10", "10", "11", "12", "27", "50", "75", "76", "80", "80", "85", "70", "72", ""]
PROVINCES = [f"省份{n:02d}" for n in range(31)]
INDUSTRIES = [f"行业{n:02d}" for n in range(20)]
NATURES = [f"性质{n:02d}" for n in range(12)]


def rows(n: int, seed: int = 1) -> list[GraduateRow]:
    rng = random.Random(seed)
    out = []
    for i in range(n):
        college = f"第{i % 20:02d}学院"
        code = rng.choice(CODES)
        employed = code in ("10", "11", "12")
        out.append(
            GraduateRow(
                college=college,
                major=f"{college}专业{rng.randrange(10)}",
                level=rng.choice(["本科生毕业", "硕士生毕业", "博士生毕业"]),
                gender=rng.choice([1, 2]),
                destination_code=code,
                destination_name=f"去向{code}",
                placed=code not in ("70", "72", ""),
                unit_province=rng.choice(PROVINCES) if employed else "",
                industry=rng.choice(INDUSTRIES) if employed else "",
                nature=rng.choice(NATURES) if employed else "",
                institution=f"大学{rng.randrange(60)}" if code in ("80", "85") else "",
                monthly_pay=rng.randrange(4000, 30000) if code == "10" else None,
            )
        )
    return out


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=5)
    runs = parser.parse_args().runs
    school = SimpleNamespace(name="示例大学", code="19999")
    data = {n: rows(n) for n in (2_000, 20_000)}
    times: dict[tuple[str, int], list[float]] = {}
    for _ in range(runs):
        for n, class_rows in data.items():
            start = time.perf_counter()
            result = figures(class_rows)
            middle = time.perf_counter()
            render_annual_pdf(school, 2026, "2026-12-01 09:00", result)
            end = time.perf_counter()
            times.setdefault(("figures", n), []).append(middle - start)
            times.setdefault(("pdf", n), []).append(end - middle)
    for (step, n), values in sorted(times.items()):
        print(
            f"{step:8} {n:>6} graduates: min {min(values) * 1000:8.1f} ms, "
            f"median {statistics.median(values) * 1000:8.1f} ms"
        )
    for step in ("figures", "pdf"):
        ratio = statistics.median(times[step, 20_000]) / statistics.median(times[step, 2_000])
        print(f"{step}: median(20,000) / median(2,000) = {ratio:.2f}")


if __name__ == "__main__":
    main()
