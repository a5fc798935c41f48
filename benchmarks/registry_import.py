"""The 学籍 import of a file versus a bare bulk_create of the same records (PostgreSQL).

    .venv/bin/python benchmarks/registry_import.py [--rows 100000] [--rounds 3]

Creates a scratch database (BENCH_IMPORT_DATABASE_URL, default
postgres://postgres@127.0.0.1:5432/bench_exports_import) with one school of 8 colleges
and 40 majors, and writes a CSV of ``--rows`` graduates in the accepted layout, every
column filled (contacts, 考生号, 出生日期, 入学年月, 学习形式 …). Then ``--rounds`` rounds,
alternated, each into an empty registry (TRUNCATE, then VACUUM (ANALYZE)) of

- the import: ``students.importing.registry_import`` of the file, the path a reviewer's
  upload takes (read, validate every row, all or nothing, upsert, audit);
- the bare baseline: ``RegistryRecord.objects.bulk_create`` of the very records the import
  wrote (built before the clock starts), in batches of 1,000, in one transaction.

Prints min and median of each and the ratio of the medians (and of the minimums).
Target (issue 19): import / bulk_create <= 3.
"""

import argparse
import io
import os
import statistics
import sys
import time
from datetime import date, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
URL = os.environ.get(
    "BENCH_IMPORT_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/bench_exports_import"
)
os.environ["DATABASE_URL"] = URL
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "destreg.settings")

from scratch import fresh_database

fresh_database(URL)

import django

django.setup()

from django.core.management import call_command
from django.db import connection, transaction

from destreg.reference.models import Code, College, Major, School
from students.importing import COLUMNS, registry_import
from students.models import RegistryRecord
from tests.factories import make_id_number

TARGET = 3.0
COLLEGES = 8
MAJORS_PER_COLLEGE = 5


def make_school() -> tuple[School, list[Major]]:
    level = Code.objects.get(table="education_level", code="31")
    school = School.objects.create(code="79001", name="导入基准大学")
    majors = []
    for c in range(COLLEGES):
        college = College.objects.create(school=school, code=f"C{c}", name=f"学院{c}")
        for m in range(MAJORS_PER_COLLEGE):
            majors.append(
                Major.objects.create(
                    college=college,
                    code=f"08{c:02d}{m:02d}",
                    education_level=level,
                    name=f"专业{c}-{m}",
                )
            )
    return school, majors


def make_file(majors: list[Major], rows: int) -> bytes:
    """A CSV (UTF-8 with a BOM, as Excel writes it) of ``rows`` valid graduates."""
    headings = list(COLUMNS)
    out = io.StringIO()
    out.write(",".join(headings) + "\n")
    ethnicities = ["汉族", "01", "回族", "03"]
    for n in range(rows):
        major = majors[n % len(majors)]
        born = date(2002, 1, 1) + timedelta(days=n % 1500)
        id_number = make_id_number("110108", born, n // 1500, 1 + n % 2)
        row = {
            "学号": f"S{n:08d}",
            "姓名": f"学生{n}",
            "性别": "男" if n % 2 == 0 else "女",
            "身份证号": id_number,
            "民族": ethnicities[n % len(ethnicities)],
            "政治面貌": "13",
            "院系": major.college.name,
            "专业代码": major.code,
            "学历层次": "31",
            "培养方式": "1",
            "入学日期": "2022-09",
            "毕业日期": "2026-06-30",
            "毕业年份": "2026",
            "生源地代码": "110108",
            "城乡生源": "1",
            "手机号": f"139{n:08d}",
            "电子邮箱": f"s{n}@example.edu.cn",
            "考生号": f"2611010815{n:06d}",
            "出生日期": born.isoformat(),
            "委培单位": "",
            "学习形式": "全日制",
        }
        out.write(",".join(row[h] for h in headings) + "\n")
    return out.getvalue().encode("utf-8-sig")


def empty_registry() -> None:
    with connection.cursor() as cursor:
        cursor.execute("TRUNCATE students_registryrecord CASCADE")
        cursor.execute("VACUUM (ANALYZE) students_registryrecord")


def time_import(school: School, data: bytes, rows: int) -> float:
    empty_registry()
    started = time.perf_counter()
    report = registry_import(
        school=school, handle=io.BytesIO(data), filename="bench.csv", actor=None
    )
    elapsed = time.perf_counter() - started
    assert report.ok and report.imported == rows, report.errors[:3]
    return elapsed


def time_bulk_create(records: list[RegistryRecord]) -> float:
    empty_registry()
    for record in records:  # fresh, unsaved instances, as the import builds them
        record.pk = None
        record._state.adding = True
    started = time.perf_counter()
    with transaction.atomic():
        RegistryRecord.objects.bulk_create(records, batch_size=1000)
    return time.perf_counter() - started


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    call_command("migrate", verbosity=0)
    call_command("load_reference", verbosity=0)
    school, majors = make_school()
    data = make_file(majors, args.rows)
    print(f"file: {args.rows:,} rows, {len(data) / 1e6:.1f} MB", flush=True)
    imports, bulks = [], []
    records: list[RegistryRecord] = []
    for n in range(args.rounds):
        imports.append(time_import(school, data, args.rows))
        print(f"round {n + 1}: import      {imports[-1]:.2f} s", flush=True)
        if not records:  # the very rows the import wrote
            records = list(RegistryRecord.objects.filter(school=school).order_by("pk"))
        bulks.append(time_bulk_create(records))
        print(f"round {n + 1}: bulk_create {bulks[-1]:.2f} s", flush=True)
    print(f"import:      min {min(imports):.2f} s, median {statistics.median(imports):.2f} s")
    print(f"bulk_create: min {min(bulks):.2f} s, median {statistics.median(bulks):.2f} s")
    ratio = statistics.median(imports) / statistics.median(bulks)
    print(f"ratio import/bulk_create: median {ratio:.2f}, min {min(imports) / min(bulks):.2f}")
    ok = ratio <= TARGET
    print(f"target: ratio <= {TARGET} -> {'met' if ok else 'MISSED'}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
