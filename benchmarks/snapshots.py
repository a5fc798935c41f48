"""Taking a reporting snapshot at 1,000 and at 100,000 graduates (PostgreSQL).

    .venv/bin/python benchmarks/snapshots.py [--small 1000] [--large 100000] [--runs 5]

Fills a scratch database (BENCH_DATABASE_URL, default
postgres://postgres@127.0.0.1:5432/destreg_bench_snapshots) with two schools of
``--small`` and ``--large`` graduates of this year's class (registry records with a
destination code on three in four, set-based INSERT ... SELECT), runs VACUUM (ANALYZE),
then takes ``--runs`` snapshots of each school (reviews.services.snapshot_take, the
command's call; each run a new cut-off, as snapshots cannot be deleted) and prints the
time per graduate (min and median), the large/small ratio of the median per-graduate
time, and the snapshot rows' size on disk per graduate.
Target (issue 17): the per-graduate time stays flat (ratio <= 1.5).

The graduates have no accounts and so no agreement or registration: the export's unit
columns are empty and its two per-chunk lookups of approved destinations find nothing.
"""

import argparse
import os
import statistics
import sys
import time
from datetime import date, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
URL = os.environ.get(
    "BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/destreg_bench_snapshots"
)
os.environ["DATABASE_URL"] = URL
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "destreg.settings")

from scratch import fresh_database

fresh_database(URL)

import django

django.setup()

from django.core.management import call_command
from django.db import connection

from destreg.lib.pii import encrypt_id_number
from destreg.reference.models import Code, College, Major, School
from reviews.models import SnapshotRow
from reviews.services import snapshot_take
from students.models import current_graduation_year

COLLEGES = 4
TARGET = 1.5


def make_school(code: str) -> School:
    level = Code.objects.get(table="education_level", code="31")
    school = School.objects.create(code=code, name=f"基准大学{code}")
    for c in range(COLLEGES):
        college = College.objects.create(school=school, code=f"C{c}", name=f"学院{code}-{c}")
        Major.objects.create(
            college=college, code=f"08{c:04d}", education_level=level, name=f"专业{c}"
        )
    return school


def fill(school: School, count: int, offset: int) -> None:
    """``count`` graduates of this year's class at ``school`` in one INSERT ... SELECT."""
    level = Code.objects.get(table="education_level", code="31").pk
    destinations = list(
        Code.objects.filter(
            table="destination", code__in=["10", "11", "70", "75", "80"]
        ).values_list("pk", flat=True)
    )
    ethnicity = Code.objects.get(table="ethnicity", code="01").pk
    political = Code.objects.get(table="political_status", code="03").pk
    cipher = encrypt_id_number("110101200301010012")
    year = current_graduation_year()
    majors = list(
        Major.objects.filter(college__school=school).order_by("pk").values_list("pk", "college_id")
    )
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            INSERT INTO students_registryrecord (school_id, student_no, name, gender,
                ethnicity_id, political_status_id, college_id, major_id, education_level_id,
                graduation_date, graduation_year, origin_region_id, id_number_cipher,
                id_number_digest, updated_at, destination_id, mobile, email)
            SELECT %s, 'S' || lpad(g::text, 7, '0'), '学生' || g, g %% 2 + 1, %s, %s,
                   (%s::bigint[])[g %% {len(majors)} + 1], (%s::bigint[])[g %% {len(majors)} + 1],
                   %s, make_date(%s, 6, 30), %s, '110108', %s, md5((g + %s)::text), now(),
                   CASE WHEN g %% 4 = 0 THEN NULL
                        ELSE (%s::bigint[])[g %% {len(destinations)} + 1] END, '', ''
            FROM generate_series(1, %s) g
            """,
            [
                school.pk, ethnicity, political,
                [college for _, college in majors], [major for major, _ in majors],
                level, year, year, cipher, offset, destinations, count,
            ],
        )  # fmt: skip


def vacuum() -> None:
    with connection.cursor() as cursor:
        for table in ("students_registryrecord", "reviews_snapshot", "reviews_snapshotrow"):
            cursor.execute(f"VACUUM (ANALYZE) {table}")


def measure(school: School, count: int, runs: int, first_day: date) -> list[float]:
    """Seconds per graduate of each of ``runs`` snapshots of ``school``."""
    year = current_graduation_year()
    per_graduate = []
    for run in range(runs):
        started = time.perf_counter()
        snapshot = snapshot_take(school=school, year=year, cutoff=first_day + timedelta(run))
        elapsed = time.perf_counter() - started
        assert snapshot is not None and snapshot.rows.count() == count
        per_graduate.append(elapsed / count)
        vacuum()
    return per_graduate


def size_per_graduate() -> float:
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_total_relation_size('reviews_snapshotrow')")
        (size,) = cursor.fetchone()
    return size / SnapshotRow.objects.count()


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--small", type=int, default=1_000)
    parser.add_argument("--large", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    call_command("migrate", verbosity=0)
    small, large = make_school("70001"), make_school("70002")
    started = time.perf_counter()
    fill(small, args.small, 0)
    fill(large, args.large, args.small)
    vacuum()
    print(
        f"filled {args.small:,} + {args.large:,} graduates in {time.perf_counter() - started:.1f} s"
    )
    first_day = date(current_graduation_year(), 1, 1)
    results = {}
    for name, school, count in (("small", small, args.small), ("large", large, args.large)):
        timings = measure(school, count, args.runs, first_day)
        results[name] = timings
        print(
            f"{name} ({count:,} graduates): per graduate min {min(timings) * 1e6:.1f} us, "
            f"median {statistics.median(timings) * 1e6:.1f} us; whole snapshot median "
            f"{statistics.median(timings) * count:.2f} s",
            flush=True,
        )
    ratio = statistics.median(results["large"]) / statistics.median(results["small"])
    ratio_min = min(results["large"]) / min(results["small"])
    print(f"snapshot rows on disk: {size_per_graduate():.0f} bytes per graduate")
    print(f"per-graduate ratio large/small: median {ratio:.2f}, min {ratio_min:.2f}")
    ok = ratio <= TARGET
    print(f"target: ratio <= {TARGET} -> {'met' if ok else 'MISSED'}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
