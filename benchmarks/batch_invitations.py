"""Batch invitations against single ones: 1,000 invitations sent one by one through
``invitation_send`` against one batch of 1,000 rows sent by the background task
(PostgreSQL).

    .venv/bin/python benchmarks/batch_invitations.py [--graduates 1000] [--rounds 2]

Fills a scratch database (BENCH_DATABASE_URL, default
postgres://postgres@127.0.0.1:5432/bench_batch) with one school and ``graduates`` confirmed
graduates. Each round makes two fresh verified units, one sending single invitations and
one a batch, to the same graduates; the order alternates between rounds. Single: each
``invitation_send`` call timed on its own (one transaction each, as the form sends them).
Batch: the upload with its preview (``batch_upload``), then 发送 (``batch_send``), whose
task runs at once in-process (the immediate backend, as in tests), timed apart. Prints, per
round, the min and median of a single send and the cost per invitation of each path; then
the medians over rounds and the ratio batch / single (must not exceed 1).
"""

import argparse
import io
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
URL = os.environ.get("BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/bench_batch")
os.environ["DATABASE_URL"] = URL
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "destreg.settings")
os.environ["EMAIL_BACKEND"] = "django.core.mail.backends.locmem.EmailBackend"
os.environ["INVITATION_BATCH_ROWS_PER_DAY"] = "1000000"
os.environ.setdefault("LOG_LEVEL", "WARNING")

from scratch import fresh_database

fresh_database(URL)

import django

django.setup()

from django.core.management import call_command
from django.db import connection
from django.test import override_settings
from django.utils import timezone

from agreements.batches import services as batches
from agreements.models import Hukou, TermTemplate
from agreements.online import services
from destreg.accounts.models import Role
from destreg.reference.models import CodeTable
from tests import factories as f


def setup(graduates: int) -> list:
    call_command("migrate", verbosity=0)
    call_command("load_reference", verbosity=0)
    with override_settings(PASSWORD_HASHERS=["django.contrib.auth.hashers.MD5PasswordHasher"]):
        school = f.make_school(name="基准大学")
        majors = [f.make_major(f.make_college(school)) for _ in range(5)]
        people = [
            f.make_student(f.make_record(majors[n % 5], name=f"毕业生{n}"))
            for n in range(graduates)
        ]
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE")
    return [(p.real_name, p.id_number) for p in people]


def new_unit():
    with override_settings(PASSWORD_HASHERS=["django.contrib.auth.hashers.MD5PasswordHasher"]):
        unit = f.make_employer(verified_at=timezone.now())
        return f.make_user(Role.EMPLOYER, employer=unit, unit_role="hr")


TERMS = {
    "position": "工程师",
    "work_location": "北京市海淀区",
    "probation_months": 3,
    "probation_salary": 8000,
    "salary": 10000,
    "penalty": 3000,
    "hukou": Hukou.EMPLOYER,
}


def run_single(people: list) -> list[float]:
    sender = new_unit()
    terms = TERMS | {"job_category": f.code(CodeTable.JOB_CATEGORY, "13")}
    times = []
    for name, id_number in people:
        start = time.perf_counter()
        services.invitation_send(sender=sender, name=name, id_number=id_number, terms=terms)
        times.append(time.perf_counter() - start)
    return times


def run_batch(people: list) -> tuple[float, float]:
    """Seconds for the upload with its preview, and for 发送 with the task's run."""
    sender = new_unit()
    template = TermTemplate.objects.create(
        employer=sender.employer,
        name="基准",
        job_category=f.code(CodeTable.JOB_CATEGORY, "13"),
        updated_by=sender,
        **TERMS,
    )
    data = io.BytesIO(
        ("姓名,身份证号\n" + "".join(f"{n},{i}\n" for n, i in people)).encode("utf-8-sig")
    )
    start = time.perf_counter()
    batch = batches.batch_upload(user=sender, template=template, handle=data, filename="b.csv")
    uploaded = time.perf_counter()
    batches.batch_send(user=sender, batch=batch)  # on commit: the task, run in-process
    sent = time.perf_counter()
    batch.refresh_from_db()
    if batch.sent_count != len(people):
        raise SystemExit(f"the batch sent {batch.sent_count} of {len(people)}")
    return uploaded - start, sent - uploaded


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--graduates", type=int, default=1000)
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()
    people = setup(args.graduates)
    n = len(people)
    singles, sends, totals = [], [], []
    for round_no in range(args.rounds):
        order = ("single", "batch") if round_no % 2 == 0 else ("batch", "single")
        for which in order:
            if which == "single":
                times = run_single(people)
                singles.append(sum(times) / n)
                print(
                    f"round {round_no + 1} single: min {min(times) * 1000:.2f} ms, median "
                    f"{statistics.median(times) * 1000:.2f} ms, per invitation "
                    f"{sum(times) / n * 1000:.2f} ms"
                )
            else:
                upload, send = run_batch(people)
                sends.append(send / n)
                totals.append((upload + send) / n)
                print(
                    f"round {round_no + 1} batch: upload+preview {upload:.2f} s, send "
                    f"{send:.2f} s; per invitation {send / n * 1000:.2f} ms sending, "
                    f"{(upload + send) / n * 1000:.2f} ms with the upload"
                )
    single = statistics.median(singles)
    print(
        f"per invitation over {args.rounds} rounds: single min {min(singles) * 1000:.2f} ms, "
        f"median {single * 1000:.2f} ms; batch sending min {min(sends) * 1000:.2f} ms, "
        f"median {statistics.median(sends) * 1000:.2f} ms; batch with upload min "
        f"{min(totals) * 1000:.2f} ms, median {statistics.median(totals) * 1000:.2f} ms"
    )
    print(
        f"ratio batch/single (medians): sending {statistics.median(sends) / single:.2f}, "
        f"with the upload {statistics.median(totals) / single:.2f}"
    )


if __name__ == "__main__":
    main()
