"""The 核查 page (reviews:verification) at 1,000 and 100,000 graduates (PostgreSQL).

    .venv/bin/python benchmarks/flags.py [--large 100000] [--runs 9] [--rounds 2]

Fills a scratch database (BENCH_DATABASE_URL, default
postgres://postgres@127.0.0.1:5432/destreg_bench_verification) with one school of 10
colleges: this year's and last year's graduates (each class the given size) with their
accounts, half of them registered by paper agreement at units of about 2 graduates, a
quarter signed online with employers of about 3, and the reviewers' approvals in the audit
log (one in 40 faster than 30 s). Every kind of flag fires, about as often at both sizes.
After each fill the tables get VACUUM (ANALYZE). Then times the page for the school
reviewer (the whole school: the largest scope) and a college reviewer, as served (the flags
kept in the cache for 5 minutes) and recomputed on every request (``?refresh=1``: what the
first request after the 5 minutes costs), ``rounds`` times ``runs`` requests each (half as
many recomputed), and prints min and median per round and the large/small ratio of the
medians.
"""

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
URL = os.environ.get(
    "BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/destreg_bench_verification"
)
os.environ["DATABASE_URL"] = URL
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "destreg.settings")

from scratch import fresh_database

fresh_database(URL)

import django

django.setup()

from django.contrib.contenttypes.models import ContentType
from django.core.management import call_command
from django.core.signals import request_started
from django.db import connection, reset_queries
from django.test import Client
from django_otp import DEVICE_ID_SESSION_KEY
from django_otp.plugins.otp_totp.models import TOTPDevice

from agreements.models import Agreement, Registration
from destreg.accounts.middleware import owes_second_factor
from destreg.accounts.models import Role, User
from destreg.lib.pii import encrypt_id_number
from destreg.reference.models import Code, College, Major, School
from reviews import flags
from students.models import current_graduation_year

COLLEGES = 10
TABLES = (
    "otp_totp_totpdevice, students_registryrecord, students_student, accounts_user, "
    "employers_employer, agreements_invitation, agreements_agreement, "
    "agreements_registration, audit_auditevent"
)


def setup_reference() -> tuple[User, User]:
    call_command("migrate", verbosity=0)
    call_command("collectstatic", interactive=False, verbosity=0)
    level = Code.objects.get(table="education_level", code="31")
    school, _ = School.objects.get_or_create(code="80000", defaults={"name": "基准大学"})
    for c in range(COLLEGES):
        college, _ = College.objects.get_or_create(
            school=school, code=f"C{c}", defaults={"name": f"学院{c}"}
        )
        Major.objects.get_or_create(
            college=college, code=f"08{c:04d}", education_level=level, defaults={"name": f"专业{c}"}
        )
    return (
        User(username="bench-school", role=Role.SCHOOL_REVIEWER, school=school),
        User(
            username="bench-college",
            role=Role.COLLEGE_REVIEWER,
            school=school,
            college=College.objects.get(school=school, code="C0"),
        ),
    )


def fill(count: int, reviewers: tuple[User, User]) -> None:
    """Replace everything by ``count`` graduates this year and ``count`` last year."""
    year = current_graduation_year()
    code = {
        (row["table"], row["code"]): row["pk"]
        for row in Code.objects.filter(
            table__in=["destination", "ethnicity", "political_status", "unit_nature", "industry"]
        ).values("table", "code", "pk")
    }
    job = Code.objects.get(table="job_category", code="13").pk
    level = Code.objects.get(table="education_level", code="31").pk
    cipher = encrypt_id_number("110101200301010012")
    destinations = [code[("destination", c)] for c in ("10", "11", "12", "75", "76", "80")]
    units = max(20, count // 4)
    employers = max(10, count // 6)
    registration_ct = ContentType.objects.get_for_model(Registration).pk
    agreement_ct = ContentType.objects.get_for_model(Agreement).pk
    params = {
        "year": year,
        "eth": code[("ethnicity", "01")],
        "pol": code[("political_status", "03")],
        "level": level,
        "cipher": cipher,
        "dest": destinations,
        "signed": code[("destination", "10")],
        "n": count,
        "units": units,
        "employers": employers,
        "nature": code[("unit_nature", "39")],
        "industry": code[("industry", "I")],
        "job": job,
        "reg_ct": registration_ct,
        "agr_ct": agreement_ct,
    }
    with connection.cursor() as cursor:
        cursor.execute(f"TRUNCATE {TABLES} RESTART IDENTITY CASCADE")
        for reviewer in reviewers:
            reviewer.pk = None
            reviewer.set_unusable_password()
            reviewer.save()
        cursor.execute("""
            CREATE TEMP TABLE IF NOT EXISTS bench_majors AS
            SELECT m.id AS major_id, c.id AS college_id, c.school_id,
                   row_number() OVER (ORDER BY c.id) - 1 AS n
            FROM reference_major m JOIN reference_college c ON c.id = m.college_id
            JOIN reference_school s ON s.id = c.school_id WHERE s.code = '80000'
        """)
        # 2 * count graduates: g <= count this year, the others last year.
        cursor.execute(
            f"""
            INSERT INTO students_registryrecord (school_id, student_no, name, gender,
                ethnicity_id, political_status_id, college_id, major_id, education_level_id,
                graduation_date, graduation_year, origin_region_id, id_number_cipher,
                id_number_digest, updated_at, destination_id, mobile, email)
            SELECT m.school_id, 'S' || g, '学生' || g, g %% 2 + 1, %(eth)s, %(pol)s,
                   m.college_id, m.major_id, %(level)s,
                   make_date(CASE WHEN g <= %(n)s THEN %(year)s ELSE %(year)s - 1 END, 6, 30),
                   CASE WHEN g <= %(n)s THEN %(year)s ELSE %(year)s - 1 END,
                   '110108', %(cipher)s, md5(g::text), now(),
                   CASE WHEN g %% 5 = 0 THEN NULL
                        ELSE (%(dest)s::bigint[])[g %% {len(destinations)} + 1] END, '', ''
            FROM generate_series(1, 2 * %(n)s) g JOIN bench_majors m ON m.n = g %% {COLLEGES}
        """,
            params,
        )
        cursor.execute(
            """
            INSERT INTO accounts_user (password, is_superuser, username, first_name, last_name,
                email, is_staff, is_active, date_joined, role, display_name)
            SELECT '!', false, 'grad' || r.id, '', '', '', false, true, now(), 'student',
                   r.name
            FROM students_registryrecord r;
            INSERT INTO students_student (id_number_cipher, id_number_digest, user_id,
                real_name, mobile, confirmed_via, record_id, confirmed_at)
            SELECT r.id_number_cipher, r.id_number_digest, u.id, r.name, '13800000000', 'code',
                   r.id, now()
            FROM students_registryrecord r JOIN accounts_user u ON u.username = 'grad' || r.id;
            """
        )
        # Employers (about 3 graduates each); the first 3 give a public mailbox and no
        # landline.
        cursor.execute(
            """
            INSERT INTO employers_employer (name, uscc, nature_id, industry_id, region_id,
                address, contact_name, contact_phone, contact_mobile, contact_email,
                business_licence, authorisation_letter, created_at, verified_at)
            SELECT '在线单位' || e, '91110000E' || lpad(e::text, 9, '0'), %(nature)s,
                   %(industry)s, '110108', '路1号', '联系人',
                   CASE WHEN e <= 3 THEN '' ELSE '010-6' || lpad(e::text, 7, '0') END,
                   '137' || lpad(e::text, 8, '0'),
                   CASE WHEN e <= 3 THEN 'e' || e || '@qq.com'
                        ELSE 'hr' || e || '@unit' || e || '.example.cn' END,
                   '', '', now(), now()
            FROM generate_series(1, %(employers)s) e
            """,
            params,
        )
        # Half of the graduates registered a paper agreement (approved), about 2 a unit;
        # units 1-3 have 10 of this year's graduates each (first seen: none of last year's),
        # units 1-5 give a public mailbox and no landline, units 20 and 22 one mobile, and
        # 5 graduates the same proof file. The anomalies stay as many at every size, as the
        # share flags do (each watched code holds about 1/6 of every college).
        cursor.execute(
            """
            INSERT INTO agreements_registration (probation_months, report_place, supplement,
                student_id, school_id, college_id, path, status, destination_id, unit_name,
                unit_uscc, unit_address, contact_name, contact_phone, contact_mobile,
                contact_email, position, work_location, hukou, paper_form, paper_number, kind,
                subtype, org_name, org_uscc, role, institution, program, country, shop_url,
                proof, extra_proof, scan, proof_sha256, extra_proof_sha256, comment,
                verify_token, pdf, pdf_sha256, content_sha256, created_at, submitted_at)
            SELECT 0, '', '', s.id, r.school_id, r.college_id, 'paper', 'approved', %(signed)s,
                   '单位' || u, '91110000R' || lpad(u::text, 9, '0'), '路2号', '联系人',
                   CASE WHEN u <= 5 THEN '' ELSE '010-8' || lpad(u::text, 7, '0') END,
                   '139' || lpad((CASE WHEN u = 22 THEN 20 ELSE u END)::text, 8, '0'),
                   CASE WHEN u <= 5 THEN 'u' || u || '@163.com'
                        ELSE 'hr@unit' || u || '.example.cn' END,
                   '职员', '北京', 'none', 'beijing', '', '', '', '', '', '', '', '', '', '',
                   'documents/p' || r.id, '', '', md5(CASE WHEN r.id <= 10 THEN 'same'
                                                           ELSE r.id::text END), '', '',
                   'reg' || r.id, '', '', '', now(), now()
            FROM students_registryrecord r JOIN students_student s ON s.record_id = r.id
            CROSS JOIN LATERAL (SELECT CASE WHEN r.id <= 60 THEN r.id %% 3 + 1
                                            WHEN r.graduation_year = %(year)s
                                            THEN 4 + r.id %% %(units)s
                                            ELSE 4 + r.id %% (%(units)s / 2) END AS u) unit
            WHERE r.id %% 2 = 0
            """,
            params,
        )
        # A quarter signed online (invitation + agreement).
        cursor.execute(
            """
            INSERT INTO agreements_invitation (job_category_id, position, work_location,
                probation_months, report_place, hukou, supplement, employer_id, student_id,
                sent_by_id, status, deadline, created_at)
            SELECT %(job)s, '工程师', '北京', 0, '', 'employer', '',
                   r.id %% %(employers)s + 1, s.id, s.user_id, 'accepted', now(), now()
            FROM students_registryrecord r JOIN students_student s ON s.record_id = r.id
            WHERE r.id %% 4 = 1
            """,
            params,
        )
        cursor.execute(
            """
            INSERT INTO agreements_agreement (job_category_id, position, work_location,
                probation_months, report_place, hukou, supplement, invitation_id, student_id,
                employer_id, school_id, college_id, status, reason, verify_token, pdf,
                pdf_sha256, content_sha256, created_at, submitted_at)
            SELECT i.job_category_id, i.position, i.work_location, 0, '', 'employer', '', i.id,
                   i.student_id, i.employer_id, r.school_id, r.college_id, 'signed', '',
                   'agr' || i.id, '', '', '', now(), now()
            FROM agreements_invitation i JOIN students_student s ON s.id = i.student_id
            JOIN students_registryrecord r ON r.id = s.record_id
            """
        )
        # Two approvals per item (the college's, then the school's), 45 s apart per
        # reviewer, every 40th only 5 s after the one before.
        cursor.execute(
            """
            INSERT INTO audit_auditevent (content_type_id, object_id, actor_id, actor_role,
                action, from_state, to_state, comment, changes, created_at)
            SELECT item.ct, item.id, reviewer.id, reviewer.role, reviewer.action, '', '', '',
                   '{}', now() - make_interval(secs => 45 * item.n - 40 * (item.n / 40))
            FROM (
                SELECT %(reg_ct)s AS ct, id, row_number() OVER (ORDER BY id) AS n
                FROM agreements_registration
                UNION ALL
                SELECT %(agr_ct)s, id, 1000000 + row_number() OVER (ORDER BY id)
                FROM agreements_agreement
            ) item
            CROSS JOIN (
                SELECT id, role, CASE WHEN role = 'school_reviewer' THEN 'school_approve'
                                      ELSE 'college_approve' END AS action
                FROM accounts_user WHERE username LIKE 'bench-%%'
            ) reviewer
            """,
            params,
        )
    with connection.cursor() as cursor:
        for table in TABLES.split(", "):
            cursor.execute(f"VACUUM (ANALYZE) {table}")


PAGES = {
    # name: (path, share of --runs; at least 3 runs)
    "page, cached": ("/reviews/verification/", 1.0),
    "page, recomputed": ("/reviews/verification/?refresh=1", 0.5),
}


def measure(client: Client, user: User, path: str, runs: int) -> tuple[float, float, int]:
    response = client.get(path)  # warm: the process, the cache
    assert response.status_code == 200, response.status_code
    raised = len(flags.compute(flags.scope_of(user)).flags)
    timings = []
    for _ in range(runs):
        start = time.perf_counter()
        client.get(path)
        timings.append(time.perf_counter() - start)
    return min(timings), statistics.median(timings), raised


def show_kinds(user: User) -> None:
    """Time each flag computation once (BENCH_SHOW_KINDS=1)."""
    scope = flags.scope_of(user)
    settings = flags.VerificationSettings.for_school(scope.school_id)
    for kind, compute_kind in flags.COMPUTE.items():
        start = time.perf_counter()
        found = compute_kind(scope, settings, current_graduation_year())
        print(f"    {kind}: {(time.perf_counter() - start) * 1000:.1f} ms, {len(found)} flags")


def scenario(reviewers, count: int, runs: int, rounds: int) -> dict[tuple, list[tuple]]:
    started = time.perf_counter()
    fill(count, reviewers)
    print(f"  filled {count:,} graduates a year in {time.perf_counter() - started:.1f} s")
    results: dict[tuple, list[tuple]] = {}
    for reviewer in reviewers:
        client = Client()
        user = User.objects.get(username=reviewer.username)
        client.force_login(user)
        if owes_second_factor(user):  # signed in as a school reviewer is: with the factor
            device, _ = TOTPDevice.objects.get_or_create(user=user, name="bench", confirmed=True)
            session = client.session
            session[DEVICE_ID_SESSION_KEY] = device.persistent_id
            session.save()
        if os.environ.get("BENCH_SHOW_KINDS"):
            show_kinds(user)
        for page, (path, share) in PAGES.items():
            for n in range(rounds):
                result = measure(client, user, path, max(3, int(runs * share)))
                results.setdefault((reviewer.username, page), []).append(result)
                print(
                    f"  {reviewer.username} {page} round {n + 1}: min {result[0] * 1000:.1f} ms,"
                    f" median {result[1] * 1000:.1f} ms, {result[2]} flags",
                    flush=True,
                )
    return results


def main() -> int:
    request_started.disconnect(reset_queries)
    parser = argparse.ArgumentParser()
    parser.add_argument("--small", type=int, default=1_000)
    parser.add_argument("--large", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=9)
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()
    reviewers = setup_reference()
    print(f"small: {args.small:,}")
    small = scenario(reviewers, args.small, args.runs, args.rounds)
    print(f"large: {args.large:,}")
    large = scenario(reviewers, args.large, args.runs, args.rounds)
    header = f"{'who, page':32} round  small min/med ms  large min/med ms  ratio"
    print(f"\n{header}")
    for key in small:
        for n, (s, lg) in enumerate(zip(small[key], large[key], strict=True)):
            print(
                f"{', '.join(key):32} {n + 1:>5} {s[0] * 1000:8.1f}/{s[1] * 1000:<8.1f} "
                f"{lg[0] * 1000:9.1f}/{lg[1] * 1000:<9.1f} {lg[1] / s[1]:5.1f}"
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
