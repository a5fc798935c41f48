"""Review queue and statistics at 1,000 and 1,000,000 reviewable items (PostgreSQL).

    .venv/bin/python benchmarks/review_queue.py [--large 1000000] [--runs 15]

Fills a scratch database (BENCH_DATABASE_URL, default
postgres://postgres@127.0.0.1:5432/destreg_bench) with review tasks and graduates
across 3 schools x 2 colleges (so even at 1,000 the measured reviewer's queue fills
more than one page), then times, for one college reviewer, the queue's
first page, a deep page (keyset cursor near the end of that reviewer's queue) and
the statistics page. Prints medians, query counts and the large/small ratios.
Target (issue 6): every ratio <= 1.5 and the same number of queries at both sizes.
"""

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
URL = os.environ.get("BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/destreg_bench")
os.environ["DATABASE_URL"] = URL
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "destreg.settings")

from scratch import fresh_database

fresh_database(URL)

import django

django.setup()

from django.contrib.contenttypes.models import ContentType
from django.core.cache import cache
from django.core.management import call_command
from django.core.signals import request_started
from django.db import (
    connection,
    reset_queries,
)
from django.test import Client
from django.test.utils import CaptureQueriesContext

from agreements.models import Agreement
from destreg.accounts.models import Role, User
from destreg.lib.pii import encrypt_id_number
from destreg.reference.models import Code, College, Major, School
from students.models import current_graduation_year

# Few enough colleges that even the small queue fills a page for the measured reviewer.
SCHOOLS, COLLEGES = 3, 2
TARGET = 1.5


def setup_reference():
    call_command("migrate", verbosity=0)
    level = Code.objects.get(table="education_level", code="31")
    colleges = []
    for s in range(SCHOOLS):
        school, _ = School.objects.get_or_create(
            code=f"{80000 + s}", defaults={"name": f"基准大学{s}"}
        )
        for c in range(COLLEGES):
            college, _ = College.objects.get_or_create(
                school=school, code=f"C{c}", defaults={"name": f"学院{s}-{c}"}
            )
            Major.objects.get_or_create(
                college=college,
                code=f"08{c:04d}",
                education_level=level,
                defaults={"name": f"专业{c}"},
            )
            colleges.append(college)
    target = colleges[0]
    reviewer, _ = User.objects.get_or_create(
        username="bench-college",
        defaults={"role": Role.COLLEGE_REVIEWER, "school": target.school, "college": target},
    )
    return reviewer


def fill(count: int) -> None:
    """Replace all tasks and graduates by ``count`` of each, spread over every college."""
    ct = ContentType.objects.get_for_model(Agreement).pk
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
    with connection.cursor() as cursor:
        cursor.execute(
            "TRUNCATE audit_reviewtask, audit_reviewfacetcount, students_registryrecord "
            "RESTART IDENTITY CASCADE"
        )
        cursor.execute("""
            CREATE TEMP TABLE IF NOT EXISTS bench_majors AS
            SELECT m.id AS major_id, c.id AS college_id, c.school_id,
                   row_number() OVER (ORDER BY c.id) - 1 AS n
            FROM reference_major m JOIN reference_college c ON c.id = m.college_id
            JOIN reference_school s ON s.id = c.school_id WHERE s.code LIKE '8%%'
        """)
        majors = SCHOOLS * COLLEGES
        cursor.execute(
            f"""
            INSERT INTO audit_reviewtask (content_type_id, object_id, kind, stage, school_id,
                college_id, major_id, education_level_id, destination_id, student_name,
                student_no, id_last4, unit_name, waiting_since)
            SELECT %s, g, (ARRAY['online','offline','paper','other','termination'])[g %% 5 + 1],
                   (ARRAY['college','school'])[g %% 2 + 1], m.school_id, m.college_id, m.major_id,
                   %s, (%s::bigint[])[g %% {len(destinations)} + 1], '学生' || g, 'S' || g,
                   lpad((g %% 10000)::text, 4, '0'), '单位' || (g %% 997),
                   now() - make_interval(secs => g)
            FROM generate_series(1, %s) g JOIN bench_majors m ON m.n = g %% {majors}
        """,
            [ct, level, destinations, count],
        )
        for facet, column in [
            ("kind", "kind"),
            ("college", "college_id::text"),
            ("major", "major_id::text"),
            ("education_level", "education_level_id::text"),
            ("destination", "destination_id::text"),
        ]:
            cursor.execute(
                f"""
                INSERT INTO audit_reviewfacetcount (school_id, college_id, stage, facet, value, n)
                SELECT school_id, college_id, stage, %s, {column}, count(*)
                FROM audit_reviewtask GROUP BY school_id, college_id, stage, {column}
            """,
                [facet],
            )
        cursor.execute(
            f"""
            INSERT INTO students_registryrecord (school_id, student_no, name, gender, ethnicity_id,
                political_status_id, college_id, major_id, education_level_id, graduation_date,
                graduation_year, origin_region_id, id_number_cipher, id_number_digest, updated_at,
                destination_id)
            SELECT m.school_id, 'S' || g, '学生' || g, g %% 2 + 1, %s, %s, m.college_id,
                   m.major_id, %s, make_date(%s, 6, 30), %s, '110108', %s, md5(g::text), now(),
                   CASE WHEN g %% 4 = 0 THEN NULL
                        ELSE (%s::bigint[])[g %% {len(destinations)} + 1] END
            FROM generate_series(1, %s) g JOIN bench_majors m ON m.n = g %% {majors}
        """,
            [ethnicity, political, level, year, year, cipher, destinations, count],
        )
        cursor.execute(
            "ANALYZE audit_reviewtask; ANALYZE audit_reviewfacetcount; "
            "ANALYZE students_registryrecord"
        )


def measure(client: Client, url: str, runs: int) -> tuple[float, int]:
    client.get(url)  # warm: caches, statistics figures
    with CaptureQueriesContext(connection) as captured:
        client.get(url)
    queries = len(captured)
    if os.environ.get("BENCH_SHOW_QUERIES"):
        for query in captured.captured_queries:
            print(f"    {query['time']}s {query['sql'][:160]}")
    timings = []
    for _ in range(runs):
        start = time.perf_counter()
        response = client.get(url)
        timings.append(time.perf_counter() - start)
        assert response.status_code == 200, (url, response.status_code)
    return statistics.median(timings), queries


def deep_cursor(reviewer) -> str:
    from destreg.audit.models import ReviewTask

    tasks = ReviewTask.objects.visible_to(reviewer).order_by("waiting_since", "id")
    total = tasks.count()
    last = tasks[max(total - 60, 0)]
    return f"{last.waiting_since.isoformat()}|{last.id}"


def scenario(reviewer, count: int, runs: int) -> dict[str, tuple[float, int]]:
    started = time.perf_counter()
    fill(count)
    print(
        f"  filled {count:,} tasks and graduates in {time.perf_counter() - started:.1f} s",
        flush=True,
    )
    cache.clear()
    client = Client()
    client.force_login(reviewer)
    start = time.perf_counter()
    client.get("/reviews/statistics/?refresh=1")
    print(f"  statistics computed from scratch in {(time.perf_counter() - start) * 1000:.0f} ms")
    from urllib.parse import quote

    return {
        "queue first page": measure(client, "/reviews/", runs),
        "queue deep page": measure(client, "/reviews/?after=" + quote(deep_cursor(reviewer)), runs),
        "statistics page": measure(client, "/reviews/statistics/", runs),
    }


def main() -> int:
    # Keep the query log across requests so CaptureQueriesContext sees each page's queries.
    request_started.disconnect(reset_queries)
    parser = argparse.ArgumentParser()
    parser.add_argument("--small", type=int, default=1_000)
    parser.add_argument("--large", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=15)
    args = parser.parse_args()
    reviewer = setup_reference()
    print(f"small: {args.small:,}")
    small = scenario(reviewer, args.small, args.runs)
    print(f"large: {args.large:,}")
    large = scenario(reviewer, args.large, args.runs)
    ok = True
    print(f"\n{'page':18} {'small ms':>9} {'large ms':>9} {'ratio':>6} {'queries':>9}")
    for page in small:
        (t_small, q_small), (t_large, q_large) = small[page], large[page]
        ratio = t_large / t_small
        ok &= ratio <= TARGET and q_small == q_large
        print(
            f"{page:18} {t_small * 1000:9.1f} {t_large * 1000:9.1f} {ratio:6.2f} "
            f"{q_small:>4}/{q_large:<4}"
        )
    print(f"target: ratio <= {TARGET} with equal query counts -> {'met' if ok else 'MISSED'}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
