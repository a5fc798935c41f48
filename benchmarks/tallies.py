"""Statistics from the destination tallies, and what their upkeep costs (PostgreSQL).

    .venv/bin/python benchmarks/tallies.py [--small 10000 100000] [--large 1000000]
                                           [--runs 30] [--pairs 20]

A scratch database (BENCH_DATABASE_URL, default postgres://postgres@127.0.0.1:5432/bench_tallies)
with 300 schools in 10 provinces (30 each, ``School.province``), 4 colleges x 3 majors per
school, two education levels. Every size is its own graduation year in the one database (the
``--large`` graduates are this year's, each ``--small`` size an earlier year's, as a real
database keeps three years), filled with SQL (generate_series; a quarter without a
destination), the tallies filled by the same GROUP BY as ``recount``, then VACUUM (ANALYZE).

(a) For a school reviewer, a college reviewer and the platform admin: ``reviews.stats.counts``
    (every count on the statistics page, from the tallies; no cache), and the figures of the
    oversight pages (reviews/oversight_views.py) of a province's staff (their province: by
    school) and of the Ministry (the country: by province). Each is timed at every size in
    turn, ``--runs`` rounds side by side (the "current year" switched between the sizes' years),
    so the machine's load falls on all sizes alike; min and median of each; the ratio
    large/small of the medians must be <= 1.5. For comparison it also prints the whole page's
    figures (``compute``: with the weekly curve and pending work, which still read rows) and
    the counts from the rows as the page did before.
(b) At the large size: the school stage approval of an online agreement (the service, as a
    reviewer's click runs it; tasks queued to the database as in production), alternately
    with the tallies' upkeep and without it (``students.tallies.upkeep_paused``), ``--pairs``
    of each; the ratio of the medians must be <= 1.2. Also the bare destination write
    (``destination_set`` on one record) with and without, for the upkeep's absolute cost.

Run it twice: a verdict must hold in both runs.
"""

import argparse
import os
import statistics
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import partial
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
URL = os.environ.get("BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/bench_tallies")
os.environ["DATABASE_URL"] = URL
os.environ["TASKS_BACKEND"] = "django_tasks_db.DatabaseBackend"  # as in production
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "destreg.settings")

from scratch import fresh_database

fresh_database(URL)

import django

django.setup()

from django.core.management import call_command
from django.db import connection, transaction
from django.utils import timezone

from agreements.online import services
from destreg.accounts.models import Role, User
from destreg.reference.models import Code, College, Major, Region, School
from reviews import oversight, stats
from students.models import RegistryRecord, current_graduation_year, people
from students.tallies import COUNTED, SCHOOLS, destination_set, upkeep_paused

PROVINCES, SCHOOLS_PER_PROVINCE, COLLEGES, MAJORS = 10, 30, 4, 3
STATS_TARGET, UPKEEP_TARGET = 1.5, 1.2
DESTINATIONS = ["10", "11", "12", "27", "46", "502", "70", "72", "75", "76", "801", "85"]


def setup_reference() -> dict[str, User]:
    call_command("migrate", verbosity=0)
    levels = list(Code.objects.filter(table="education_level", code__in=["11", "31"]))
    provinces = list(Region.objects.filter(level=Region.Level.PROVINCE).order_by("code"))
    School.objects.bulk_create(
        School(code=f"{p + 1:02d}{s:03d}", name=f"基准省{p + 1}大学{s}", province=provinces[p])
        for p in range(PROVINCES)
        for s in range(SCHOOLS_PER_PROVINCE)
    )
    College.objects.bulk_create(
        College(school=school, code=f"C{c}", name=f"{school.name}学院{c}")
        for school in School.objects.all()
        for c in range(COLLEGES)
    )
    Major.objects.bulk_create(
        Major(
            college=college,
            code=f"08{m:04d}",
            name=f"专业{m}",
            education_level=levels[m % len(levels)],
        )
        for college in College.objects.all()
        for m in range(MAJORS)
    )
    college = College.objects.order_by("pk").first()
    assert college is not None
    return {
        "school": User.objects.create(
            username="bench-school", role=Role.SCHOOL_REVIEWER, school=college.school
        ),
        "college": User.objects.create(
            username="bench-college",
            role=Role.COLLEGE_REVIEWER,
            school=college.school,
            college=college,
        ),
        "platform": User.objects.create(
            username="bench-admin", role=Role.PLATFORM_ADMIN, is_staff=True
        ),
        "province": User.objects.create(
            username="bench-province", role=Role.PROVINCE_STAFF, province=provinces[0]
        ),
        "ministry": User.objects.create(username="bench-ministry", role=Role.MINISTRY_STAFF),
    }


def oversight_figures(user: User) -> None:
    """What the oversight page of ``user`` computes (reviews/oversight_views.py): their
    province by school, or the country by province, with the waiting work and the
    level/gender/destination rows."""
    schools = oversight.schools_overseen_by(user)
    rows = oversight.SCHOOLS if user.role == Role.PROVINCE_STAFF else oversight.PROVINCES
    oversight.figures(oversight.graduates_of(schools, by_major=False), rows)
    oversight.waiting_by(schools, rows[0])


def fill(count: int, year: int) -> None:
    """Add ``count`` graduates of ``year`` spread over all majors, and their tallies as
    ``recount`` makes them."""
    destinations = list(
        Code.objects.filter(table="destination", code__in=DESTINATIONS).values_list("pk", flat=True)
    )
    ethnicity = Code.objects.get(table="ethnicity", code="01").pk
    political = Code.objects.get(table="political_status", code="03").pk
    columns = ", ".join(COUNTED)
    with connection.cursor() as cursor:
        cursor.execute("""
            CREATE TEMP TABLE IF NOT EXISTS bench_majors AS
            SELECT m.id AS major_id, c.id AS college_id, c.school_id, m.education_level_id,
                   row_number() OVER (ORDER BY m.id) - 1 AS n
            FROM reference_major m JOIN reference_college c ON c.id = m.college_id
        """)
        cursor.execute("SELECT count(*) FROM bench_majors")
        majors = cursor.fetchone()[0]
        # A graduate's destination: none for a quarter, else one of DESTINATIONS, drawn
        # from a hash so that every school sees every destination.
        cursor.execute(
            f"""
            INSERT INTO students_registryrecord (school_id, student_no, name, gender,
                ethnicity_id, political_status_id, college_id, major_id, education_level_id,
                graduation_date, graduation_year, origin_region_id, id_number_cipher,
                id_number_digest, updated_at, destination_id, destination_at, sponsor_unit,
                study_form, candidate_no, mobile, email)
            SELECT m.school_id, %s || g, '学生' || g, (g / {majors}) %% 2 + 1, %s, %s,
                   m.college_id, m.major_id, m.education_level_id, make_date(%s, 6, 30), %s,
                   '110108', '', md5(%s || g), now(),
                   CASE WHEN h %% 4 = 0 THEN NULL
                        ELSE (%s::bigint[])[h %% {len(destinations)} + 1] END,
                   CASE WHEN h %% 4 = 0 THEN NULL ELSE now() END, '', '', '', '', ''
            FROM generate_series(1, %s) g
            CROSS JOIN LATERAL (SELECT abs(hashtext(g::text)) AS h) r
            JOIN bench_majors m ON m.n = g %% {majors}
        """,
            [f"S{year}-", ethnicity, political, year, year, f"{year}-", destinations, count],
        )
        cursor.execute(
            f"""
            INSERT INTO students_destinationtally ({columns}, count)
            SELECT {columns}, count(*) FROM students_registryrecord
            WHERE graduation_year = %s GROUP BY {columns}
        """,
            [year],
        )
        school_columns = ", ".join(SCHOOLS.fields)
        cursor.execute(
            f"""
            INSERT INTO students_schooltally ({school_columns}, count)
            SELECT {school_columns}, count(*) FROM students_registryrecord
            WHERE graduation_year = %s GROUP BY {school_columns}
        """,
            [year],
        )
        sizes = []
        for table in ("students_destinationtally", "students_schooltally"):
            cursor.execute(f"SELECT count(*) FROM {table} WHERE graduation_year = %s", [year])
            sizes.append(cursor.fetchone()[0])
        print(
            f"  {year}: {count:,} graduates, {sizes[0]:,} tallies per major, "
            f"{sizes[1]:,} per school",
            flush=True,
        )


@contextmanager
def graduation_year(year: int) -> Iterator[None]:
    """Make ``year`` the current graduation year for the code under test (every module that
    imported ``current_graduation_year``), so one database serves every size."""
    original = people.current_graduation_year
    modules = [
        module
        for module in list(sys.modules.values())
        if getattr(module, "current_graduation_year", None) is original
    ]
    for module in modules:
        module.current_graduation_year = lambda: year  # type: ignore[attr-defined]
    try:
        yield
    finally:
        for module in modules:
            module.current_graduation_year = original  # type: ignore[attr-defined]


def line(name: str, timings: list[float]) -> str:
    return (
        f"{name:34} min {min(timings) * 1000:8.2f} ms  "
        f"median {statistics.median(timings) * 1000:8.2f} ms"
    )


def side_by_side(action: Callable[[], object], years: list[int], runs: int) -> list[list[float]]:
    """``action`` timed in each of ``years`` in turn, ``runs`` rounds (the order rotated each
    round), after one warm-up each: a list of timings per year."""
    timings: list[list[float]] = [[] for _ in years]
    for n in range(runs + 1):
        order = [(n + k) % len(years) for k in range(len(years))]
        for i in order:
            with graduation_year(years[i]):
                start = time.perf_counter()
                action()
                if n:
                    timings[i].append(time.perf_counter() - start)
    return timings


def statistics_rounds(users: dict[str, User], years: list[int], runs: int) -> dict:
    """{figure: [timings per year]} for every target figure and the comparisons."""
    figures: dict[str, tuple[Callable[[], object], int]] = {}
    for scope, user in users.items():
        if scope in ("province", "ministry"):
            figures[f"{scope} page figures (tallies)"] = (partial(oversight_figures, user), runs)
        else:
            figures[f"{scope} counts (tallies)"] = (partial(stats.counts, user), runs)
    # For comparison only (not a target): the whole page's figures and the rows' counts.
    few = max(3, runs // 5)
    for scope in ("school", "college"):
        user = users[scope]
        figures[f"{scope} page figures (compute)"] = (partial(stats.compute, user), few)
        figures[f"{scope} counts from rows (before)"] = (
            partial(stats.counts_from_rows, user),
            few,
        )
    results = {}
    for name, (action, rounds) in figures.items():
        results[name] = side_by_side(action, years, rounds)
        for year, timings in zip(years, results[name], strict=True):
            print(f"  {year} " + line(name, timings), flush=True)
    return results


def approvals(pairs: int) -> bool:
    """(b): school stage approvals with and without the upkeep, alternated."""
    from tests import factories as f

    college = College.objects.order_by("pk").first()
    assert college is not None
    major = Major.objects.filter(college=college).first()
    assert major is not None
    college_reviewer = f.make_user(Role.COLLEGE_REVIEWER, school=college.school, college=college)
    school_reviewer = f.make_user(Role.SCHOOL_REVIEWER, school=college.school)
    employer = f.make_employer(verified_at=timezone.now())
    print(f"  preparing {2 * pairs} agreements awaiting the school's approval", flush=True)
    waiting = []
    for n in range(2 * pairs):
        student = f.make_student(f.make_record(major, student_no=f"B{n:05d}"))
        invitation = f.make_invitation(employer, student)
        agreement = services.invitation_accept(invitation=invitation, user=student.user)
        services.agreement_approve(agreement=agreement, reviewer=college_reviewer)
        waiting.append(agreement.pk)
    with connection.cursor() as cursor:
        cursor.execute("VACUUM (ANALYZE)")
    from agreements.models import Agreement

    with_upkeep, without = [], []
    for n, pk in enumerate(waiting):
        agreement = Agreement.objects.get(pk=pk)
        paused = n % 2 == 1
        start = time.perf_counter()
        if paused:
            with upkeep_paused():
                services.agreement_approve(agreement=agreement, reviewer=school_reviewer)
        else:
            services.agreement_approve(agreement=agreement, reviewer=school_reviewer)
        (without if paused else with_upkeep).append(time.perf_counter() - start)
    print("  " + line("approval with tallies", with_upkeep))
    print("  " + line("approval without tallies", without))
    ratio = statistics.median(with_upkeep) / statistics.median(without)
    ratio_min = min(with_upkeep) / min(without)
    ok = ratio <= UPKEEP_TARGET
    print(
        f"  ratio with/without: median {ratio:.2f}, min {ratio_min:.2f}  "
        f"(target <= {UPKEEP_TARGET}: {'met' if ok else 'MISSED'})"
    )

    # The bare write: one record's destination set and cleared, alternately.
    record = RegistryRecord.objects.order_by("pk").first()
    assert record is not None
    code = Code.objects.get(table="destination", code="10")
    records = RegistryRecord.objects.filter(pk=record.pk)

    def write(value) -> None:
        with transaction.atomic():
            destination_set(records, value, None)

    bare_with, bare_without = [], []
    for n in range(400):
        value = code if n % 4 < 2 else None
        start = time.perf_counter()
        if n % 2:
            with upkeep_paused():
                write(value)
            bare_without.append(time.perf_counter() - start)
        else:
            write(value)
            bare_with.append(time.perf_counter() - start)
    print("  " + line("destination write with tallies", bare_with))
    print("  " + line("destination write without", bare_without))
    return ok


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--small", type=int, nargs="+", default=[10_000, 100_000])
    parser.add_argument("--large", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=30)
    parser.add_argument("--pairs", type=int, default=20)
    args = parser.parse_args()
    users = setup_reference()
    sizes = [*args.small, args.large]
    this_year = current_graduation_year()
    years = [this_year - len(args.small) + i for i in range(len(sizes))]  # large: this year
    for size, year in zip(sizes, years, strict=True):
        fill(size, year)
    with connection.cursor() as cursor:
        cursor.execute("VACUUM (ANALYZE) students_registryrecord")
        cursor.execute("VACUUM (ANALYZE) students_destinationtally")
        cursor.execute("VACUUM (ANALYZE) students_schooltally")
    results = statistics_rounds(users, years, args.runs)

    ok = True
    heads = "".join(f"{size:>11,}" for size in sizes)
    ratios = "".join(f"  {args.large // size:>4}x" for size in args.small)
    print(f"\n{'medians (ms)':34}{heads}  large/small: median (min)")
    print(f"{'':34}{'':>{11 * len(sizes)}}{ratios}")
    for name, per_year in results.items():
        medians = [statistics.median(timings) for timings in per_year]
        mins = [min(timings) for timings in per_year]
        target = "(tallies)" in name
        cells = ""
        for i in range(len(args.small)):
            ratio = medians[-1] / medians[i]
            cells += f"  {ratio:5.2f} ({mins[-1] / mins[i]:4.2f})"
            if target:
                ok &= ratio <= STATS_TARGET
        print(
            f"{name:34}"
            + "".join(f"{m * 1000:11.2f}" for m in medians)
            + cells
            + ("  <- target" if target else "")
        )
    print(f"statistics target: ratio <= {STATS_TARGET} -> {'met' if ok else 'MISSED'}")
    print("approvals at the large size:")
    upkeep_ok = approvals(args.pairs)
    return 0 if ok and upkeep_ok else 1


if __name__ == "__main__":
    sys.exit(main())
