"""The national export of every graduate versus a bare COPY of the same columns (PostgreSQL).

    .venv/bin/python benchmarks/national_export.py [--rows 1000000] [--rounds 3] [--keep]

Fills a scratch database (BENCH_DATABASE_URL, default
postgres://postgres@127.0.0.1:5432/bench_exports) with ``--rows`` registry records of
this year's class across 300 schools in 10 provinces, set-based (INSERT ... SELECT
generate_series, foreign-key triggers off while it runs): seven in ten graduates have an
account; of all graduates three in ten hold a signed online agreement (with its invitation
and one of 1,000 employers), three in ten an approved registration (a labour contract,
further study or study abroad, in turn), one in ten has an account and nothing approved
yet, the rest have no account. Then
VACUUM (ANALYZE), and ``--rounds`` rounds, alternated, of

- the export: ``reviews.exporting.write_csv`` of all records (the "all" scope a national
  dashboard would pass) to /dev/null, as the background job writes it;
- the bare baseline: ``COPY (SELECT <the same 42 columns with the same joins>) TO STDOUT
  (FORMAT csv)`` through psycopg, its output read and thrown away.

Prints min and median of each and the ratio of the medians (and of the minimums).
Target (issue 19): export / COPY <= 3.

``--keep`` reuses a database filled earlier with the same ``--rows`` (no refill).
"""

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
URL = os.environ.get("BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/bench_exports")
os.environ["DATABASE_URL"] = URL
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "destreg.settings")

TARGET = 3.0
SCHOOLS = 300
PROVINCES = ["110000", "310000", "320000", "330000", "370000", "420000", "440000", "510000",
             "610000", "210000"]  # fmt: skip
COLLEGES = 4  # per school, one major each
EMPLOYERS = 1000


def _ids(cursor, sql: str, params=()) -> list:
    cursor.execute(sql, params)
    return [row[0] for row in cursor.fetchall()]


def fill(rows: int) -> None:
    """Schools, majors, employers, then ``rows`` graduates and their destinations."""
    from django.db import connection

    from destreg.lib.pii import encrypt_id_number
    from students.models import current_graduation_year

    year = current_graduation_year()
    cipher = encrypt_id_number("110101200301010012")
    with connection.cursor() as c:
        # The generated rows are consistent by construction: skip the foreign-key triggers
        # (checked row by row at commit, they took most of a million-row fill's time).
        c.execute("SET session_replication_role = replica")

        def code(table: str, value: str) -> int:
            c.execute(
                'SELECT id FROM reference_code WHERE "table" = %s AND code = %s', [table, value]
            )
            return c.fetchone()[0]

        level = code("education_level", "31")
        # Prefecture-level regions of the ten provinces (origins and units' seats).
        regions = _ids(
            c,
            "SELECT code FROM reference_region WHERE level = 2 AND left(code, 2) = ANY(%s) "
            "ORDER BY code",
            [[p[:2] for p in PROVINCES]],
        )
        c.execute(
            """
            INSERT INTO reference_school (code, name, address, postcode, contact_name,
                contact_phone, contact_email, invitation_validity_days, review_sla_days,
                agreement_clauses, seal)
            SELECT (%s::text[])[s %% 10 + 1]::int / 10000 * 1000 + s, '基准大学' || s, '', '',
                   '', '', '', 14, 5, '', ''
            FROM generate_series(0, %s - 1) s
            """,
            [PROVINCES, SCHOOLS],
        )
        c.execute(
            """
            INSERT INTO reference_college (school_id, code, name)
            SELECT s.id, 'C' || k, '学院' || k FROM reference_school s, generate_series(0, %s - 1) k
            """,
            [COLLEGES],
        )
        c.execute(
            """
            INSERT INTO reference_major (college_id, code, name, education_level_id)
            SELECT id, '0809' || lpad(code, 2, '0'), '专业' || name, %s FROM reference_college
            """,
            [level],
        )
        # One (school, college, major) triple per slot: slot = school * COLLEGES + college.
        c.execute(
            "SELECT c.school_id, c.id, m.id FROM reference_major m "
            "JOIN reference_college c ON c.id = m.college_id ORDER BY c.school_id, c.id"
        )
        slots = c.fetchall()
        natures = _ids(c, "SELECT id FROM reference_code WHERE \"table\" = 'unit_nature'")
        industries = _ids(c, "SELECT id FROM reference_code WHERE \"table\" = 'industry'")
        jobs = _ids(c, "SELECT id FROM reference_code WHERE \"table\" = 'job_category'")
        countries = _ids(c, "SELECT id FROM reference_code WHERE \"table\" = 'country'")
        c.execute(
            """
            INSERT INTO employers_employer (id, name, uscc, address, contact_name, contact_phone,
                contact_mobile, contact_email, created_at, industry_id, nature_id, region_id,
                authorisation_letter, business_licence, verified_at, placeholder)
            SELECT e, '基准单位' || e || '有限公司', '91' || lpad(e::text, 16, '0'),
                   '某区某路' || e || '号', '联系人', '', '', '', now(),
                   (%(ind)s::bigint[])[e %% cardinality(%(ind)s::bigint[]) + 1],
                   (%(nat)s::bigint[])[e %% cardinality(%(nat)s::bigint[]) + 1],
                   (%(reg)s::text[])[e %% cardinality(%(reg)s::text[]) + 1], '', '', now(),
                   false
            FROM generate_series(1, %(n)s) e
            """,
            {"ind": industries, "nat": natures, "reg": regions, "n": EMPLOYERS},
        )
        destinations = {value: code("destination", value) for value in ("10", "11", "80", "85")}
        params = {
            "n": rows,
            "schools": [s for s, _c, _m in slots],
            "colleges": [college for _s, college, _m in slots],
            "majors": [m for _s, _c, m in slots],
            "slots": len(slots),
            "level": level,
            "eth": code("ethnicity", "01"),
            "pol": code("political_status", "13"),
            "urban": code("urban_rural", "1"),
            "mode": code("study_mode", "1"),
            "year": year,
            "cipher": cipher,
            "reg": regions,
            # g % 10: 0-2 signed agreement, 3-5 approved registration, 6 account only.
            "dest": [destinations[v] for v in ("10", "10", "10", "11", "80", "85")],
        }
        c.execute(
            """
            INSERT INTO students_registryrecord (id, school_id, student_no, name, gender,
                ethnicity_id, political_status_id, college_id, major_id, education_level_id,
                study_mode_id, urban_rural_id, graduation_date, graduation_year,
                origin_region_id, id_number_cipher, id_number_digest, updated_at,
                destination_id, mobile, email, candidate_no, birth_date, sponsor_unit,
                study_form, enrolment_date)
            SELECT g, (%(schools)s::bigint[])[g %% %(slots)s + 1], 'S' || lpad(g::text, 8, '0'),
                   '学生' || g, g %% 2 + 1, %(eth)s, %(pol)s,
                   (%(colleges)s::bigint[])[g %% %(slots)s + 1],
                   (%(majors)s::bigint[])[g %% %(slots)s + 1], %(level)s, %(mode)s,
                   %(urban)s, make_date(%(year)s, 6, 30), %(year)s,
                   (%(reg)s::text[])[g %% cardinality(%(reg)s::text[]) + 1], %(cipher)s,
                   md5(g::text), now(),
                   CASE WHEN g %% 10 < 3 THEN (%(dest)s::bigint[])[1]
                        WHEN g %% 10 < 6 THEN (%(dest)s::bigint[])[4 + (g / 10) %% 3 - 1 + 1]
                        END,
                   '', '', '26110108' || lpad(g::text, 8, '0'),
                   make_date(%(year)s - 22, 1 + g %% 12, 1 + g %% 28),
                   CASE WHEN g %% 50 = 0 THEN '委培单位' ELSE '' END,
                   CASE WHEN g %% 20 = 0 THEN 'part_time' ELSE 'full_time' END,
                   make_date(%(year)s - 4, 9, 1)
            FROM generate_series(1, %(n)s) g
            """,
            params,
        )
        # Accounts: seven in ten graduates (g % 10 < 7), ids equal to the record's.
        c.execute(
            """
            INSERT INTO accounts_user (id, password, is_superuser, username, first_name,
                last_name, email, is_staff, is_active, date_joined, role, display_name,
                unit_role)
            SELECT g, '!', false, 'u' || g, '', '', '', false, true, now(), 'student', '', ''
            FROM generate_series(1, %(n)s) g WHERE g %% 10 < 7
            """,
            params,
        )
        c.execute(
            """
            INSERT INTO students_student (id, id_number_cipher, id_number_digest, real_name,
                mobile, user_id, record_id, confirmed_via, confirmed_at)
            SELECT g, %(cipher)s, md5(g::text), '学生' || g, '', g, g, '', now()
            FROM generate_series(1, %(n)s) g WHERE g %% 10 < 7
            """,
            params,
        )
        jparams = {**params, "jobs": jobs, "emp": EMPLOYERS}
        c.execute(
            """
            INSERT INTO agreements_invitation (id, position, work_location, probation_months,
                report_place, hukou, supplement, status, deadline, created_at, employer_id,
                job_category_id, sent_by_id, student_id)
            SELECT g, '工程师', '', 3, '', 'employer', '', 'accepted', now(), now(),
                   g %% %(emp)s + 1, (%(jobs)s::bigint[])[g %% cardinality(%(jobs)s::bigint[]) + 1],
                   g, g
            FROM generate_series(1, %(n)s) g WHERE g %% 10 < 3
            """,
            jparams,
        )
        c.execute(
            """
            INSERT INTO agreements_agreement (id, position, work_location, probation_months,
                report_place, hukou, supplement, status, reason, verify_token, pdf, pdf_sha256,
                content_sha256, created_at, submitted_at, signed_at, number, college_id,
                employer_id, job_category_id, school_id, student_id, invitation_id, unit_name,
                unit_uscc)
            SELECT i.id, i.position, '', 3, '', 'employer', '', 'signed', '',
                   'a' || md5(i.id::text),
                   '', '', '', now(), now(), now() - (i.id %% 90) * interval '1 day',
                   'A' || lpad(i.id::text, 10, '0'), r.college_id, i.employer_id,
                   i.job_category_id, r.school_id, i.id, i.id,
                   CASE WHEN i.id %% 7 = 0 THEN '签约时的单位名称' ELSE '' END, ''
            FROM agreements_invitation i JOIN students_registryrecord r ON r.id = i.id
            """,
            [],
        )
        c.execute(
            """
            INSERT INTO agreements_registration (id, probation_months, report_place, supplement,
                path, status, unit_name, unit_uscc, unit_address, contact_name, contact_phone,
                contact_mobile, contact_email, position, work_location, hukou, paper_form,
                paper_number, kind, subtype, org_name, org_uscc, role, institution, program,
                country_legacy, proof, scan, comment, verify_token, pdf, pdf_sha256,
                content_sha256, created_at, college_id, destination_id, school_id, student_id,
                extra_proof, shop_url, extra_proof_sha256, proof_sha256, institution_foreign,
                program_foreign, number, signed_at, unit_nature_id, unit_industry_id,
                unit_region_id, job_category_id, country_id)
            SELECT r.id, 0, '', '', 'other', 'approved', '', '', '', '', '', '', '', '', '', '',
                   '', '', k.kind, '', CASE WHEN k.kind = 'labour_contract'
                   THEN '合同单位' || r.id ELSE '' END,
                   CASE WHEN k.kind = 'labour_contract' THEN '91' || lpad(r.id::text, 16, '0')
                   ELSE '' END, '', CASE WHEN k.kind = 'labour_contract' THEN ''
                   WHEN k.kind = 'further_study' THEN '示例大学' ELSE '新加坡国立大学' END,
                   CASE WHEN k.kind = 'labour_contract' THEN '' ELSE '计算机科学' END, '', '', '',
                   '', 'r' || md5(r.id::text), '', '', '', now(), r.college_id, r.destination_id,
                   r.school_id, r.id, '', '', '', '',
                   CASE WHEN k.kind = 'study_abroad' THEN 'National University of Singapore'
                   ELSE '' END, CASE WHEN k.kind = 'study_abroad' THEN 'Computer Science'
                   ELSE '' END, 'R' || lpad(r.id::text, 10, '0'),
                   CASE WHEN k.kind = 'labour_contract' THEN now() END,
                   CASE WHEN k.kind = 'labour_contract'
                   THEN (%(nat)s::bigint[])[r.id %% cardinality(%(nat)s::bigint[]) + 1] END,
                   CASE WHEN k.kind = 'labour_contract'
                   THEN (%(ind)s::bigint[])[r.id %% cardinality(%(ind)s::bigint[]) + 1] END,
                   CASE WHEN k.kind = 'labour_contract'
                   THEN (%(reg)s::text[])[r.id %% cardinality(%(reg)s::text[]) + 1] END,
                   CASE WHEN k.kind = 'labour_contract'
                   THEN (%(jobs)s::bigint[])[r.id %% cardinality(%(jobs)s::bigint[]) + 1] END,
                   CASE WHEN k.kind = 'study_abroad'
                   THEN (%(cty)s::bigint[])[r.id %% cardinality(%(cty)s::bigint[]) + 1] END
            FROM students_registryrecord r,
                 LATERAL (SELECT (ARRAY['labour_contract', 'further_study',
                                        'study_abroad'])[(r.id / 10) %% 3 + 1] AS kind) k
            WHERE r.id %% 10 BETWEEN 3 AND 5
            """,
            {"nat": natures, "ind": industries, "reg": regions, "jobs": jobs, "cty": countries},
        )
        c.execute("SET session_replication_role = DEFAULT")
        for table in ("employers_employer", "students_registryrecord", "accounts_user",
                      "students_student", "agreements_invitation", "agreements_agreement",
                      "agreements_registration"):  # fmt: skip
            c.execute(
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                f"(SELECT coalesce(max(id), 1) FROM {table}))"
            )


def vacuum() -> None:
    from django.db import connection

    with connection.cursor() as c:
        for table in ("reference_school", "reference_college", "reference_major",
                      "employers_employer", "students_registryrecord", "accounts_user",
                      "students_student", "agreements_invitation", "agreements_agreement",
                      "agreements_registration"):  # fmt: skip
            c.execute(f"VACUUM (ANALYZE) {table}")


# The export's 42 columns, with the same joins, in SQL: the floor any export could reach.
# Code names print in Chinese (the layout's language), as the export does.
COPY_SQL = """
SELECT r.student_no, r.name, CASE r.gender WHEN 1 THEN '男' WHEN 2 THEN '女' ELSE '' END,
       og.full_name, og.code, eth.name, pol.name, coalesce(ur.name, ''), lvl.name, m.name,
       m.code, r.graduation_date, coalesce(d.code, ''), coalesce(d.name, ''),
       coalesce((coalesce(a.signed_at, g.signed_at) AT TIME ZONE 'Asia/Shanghai')::date::text,
                ''),
       coalesce(nullif(a.unit_name, ''), e.name,
                coalesce(nullif(g.unit_name, ''), nullif(g.org_name, ''), g.institution), ''),
       coalesce(nullif(a.unit_uscc, ''), e.uscc, coalesce(nullif(g.unit_uscc, ''), g.org_uscc),
                ''),
       coalesce(coalesce(en.code, gn.code), ''), coalesce(coalesce(en.name, gn.name), ''),
       coalesce(coalesce(ei.code, gi.code), ''), coalesce(coalesce(ei.name, gi.name), ''),
       coalesce(coalesce(er.code, gr.code), ''), coalesce(coalesce(er.full_name, gr.full_name),
                ''),
       coalesce(coalesce(aj.code, gj.code), ''), coalesce(coalesce(aj.name, gj.name), ''),
       coalesce(a.number, g.number, ''),
       r.candidate_no, coalesce(r.birth_date::text, ''), coalesce(sm.code, ''),
       coalesce(sm.name, ''), r.sponsor_unit,
       CASE r.study_form WHEN 'full_time' THEN '全日制' WHEN 'part_time' THEN '非全日制'
            ELSE '' END,
       coalesce(to_char(r.enrolment_date, 'YYYY-MM'), ''),
       coalesce(e.address, g.unit_address, ''),
       CASE WHEN g.kind = 'further_study' THEN g.institution ELSE '' END,
       CASE WHEN g.kind = 'further_study' THEN g.program ELSE '' END,
       CASE WHEN g.kind = 'study_abroad' THEN coalesce(cty.code, '') ELSE '' END,
       CASE WHEN g.kind = 'study_abroad' THEN coalesce(cty.name, g.country_legacy) ELSE '' END,
       CASE WHEN g.kind = 'study_abroad' THEN g.institution ELSE '' END,
       CASE WHEN g.kind = 'study_abroad' THEN g.institution_foreign ELSE '' END,
       CASE WHEN g.kind = 'study_abroad' THEN g.program ELSE '' END,
       CASE WHEN g.kind = 'study_abroad' THEN g.program_foreign ELSE '' END
FROM students_registryrecord r
JOIN reference_region og ON og.code = r.origin_region_id
JOIN reference_code eth ON eth.id = r.ethnicity_id
JOIN reference_code pol ON pol.id = r.political_status_id
LEFT JOIN reference_code ur ON ur.id = r.urban_rural_id
JOIN reference_code lvl ON lvl.id = r.education_level_id
LEFT JOIN reference_code sm ON sm.id = r.study_mode_id
JOIN reference_major m ON m.id = r.major_id
LEFT JOIN reference_code d ON d.id = r.destination_id
LEFT JOIN students_student s ON s.record_id = r.id
LEFT JOIN agreements_agreement a ON a.student_id = s.id AND a.status = 'signed'
LEFT JOIN employers_employer e ON e.id = a.employer_id
LEFT JOIN reference_code en ON en.id = e.nature_id
LEFT JOIN reference_code ei ON ei.id = e.industry_id
LEFT JOIN reference_region er ON er.code = e.region_id
LEFT JOIN reference_code aj ON aj.id = a.job_category_id
LEFT JOIN agreements_registration g
       ON g.student_id = s.id AND g.status = 'approved' AND a.id IS NULL
LEFT JOIN reference_code gn ON gn.id = g.unit_nature_id
LEFT JOIN reference_code gi ON gi.id = g.unit_industry_id
LEFT JOIN reference_region gr ON gr.code = g.unit_region_id
LEFT JOIN reference_code gj ON gj.id = g.job_category_id
LEFT JOIN reference_code cty ON cty.id = g.country_id
WHERE r.graduation_year = %s
ORDER BY r.school_id, r.student_no
"""


def time_export(records) -> tuple[float, int]:
    from reviews import exporting

    started = time.perf_counter()
    with open(os.devnull, "wb") as sink:
        exporting.write_csv(records, sink, lambda _done: None)
    return time.perf_counter() - started, records.count()


def time_copy(year: int) -> tuple[float, int]:
    import psycopg

    started = time.perf_counter()
    size = lines = 0
    query = f"COPY ({COPY_SQL.replace('%s', str(int(year)))}) TO STDOUT (FORMAT csv)"
    with (
        psycopg.connect(URL.replace("postgres://", "postgresql://")) as conn,
        conn.cursor() as cursor,
        cursor.copy(query) as copy,
    ):
        for data in copy:
            size += len(data)
            lines += bytes(data).count(b"\n")
    return time.perf_counter() - started, lines


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--keep", action="store_true", help="reuse an earlier fill")
    args = parser.parse_args()
    if not args.keep:
        from scratch import fresh_database

        fresh_database(URL)
    import django

    django.setup()
    from django.core.management import call_command

    from students.models import RegistryRecord, current_graduation_year

    if not args.keep:
        call_command("migrate", verbosity=0)
        call_command("load_reference", verbosity=0)
        started = time.perf_counter()
        fill(args.rows)
        vacuum()
        print(
            f"filled {args.rows:,} graduates in {time.perf_counter() - started:.1f} s", flush=True
        )
    year = current_graduation_year()
    records = RegistryRecord.objects.filter(graduation_year=year)  # the "all" scope
    if args.keep and records.count() != args.rows:
        print(f"--keep: the database holds {records.count():,} graduates, not {args.rows:,}")
        return 2
    exports, copies = [], []
    for n in range(args.rounds):
        seconds, count = time_export(records)
        exports.append(seconds)
        print(f"round {n + 1}: export {seconds:.2f} s ({count:,} rows)", flush=True)
        seconds, count = time_copy(year)
        copies.append(seconds)
        print(f"round {n + 1}: COPY   {seconds:.2f} s ({count:,} rows)", flush=True)
    print(f"export: min {min(exports):.2f} s, median {statistics.median(exports):.2f} s")
    print(f"COPY:   min {min(copies):.2f} s, median {statistics.median(copies):.2f} s")
    ratio = statistics.median(exports) / statistics.median(copies)
    print(f"ratio export/COPY: median {ratio:.2f}, min {min(exports) / min(copies):.2f}")
    ok = ratio <= TARGET
    print(f"target: ratio <= {TARGET} -> {'met' if ok else 'MISSED'}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
