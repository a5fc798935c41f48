"""Peak-season load on gunicorn + PostgreSQL, with a consistency check afterwards (issue 7).

    .venv/bin/python benchmarks/load.py [--users 230] [--duration 60] [--students 3000]

Fills a scratch database (LOAD_DATABASE_URL, default
postgres://postgres@127.0.0.1:5432/destreg_load) with a graduating class, starts gunicorn
with production settings (docs/deploy.md), then drives it with locust
(benchmarks/locustfile.py) from this machine:

1. Side by side, in alternating rounds under the same server: the student home page
   against a bare HttpResponse view (/healthz), both requested back to back. Target: the
   home page serves at least 25% of the bare view's requests per second.
2. The peak mix: graduates viewing and accepting invitations, employers sending them,
   reviewers approving. Target: >= 200 requests/s, p95 <= 300 ms, no errors.
3. A task worker then renders the PDFs and sends the e-mails queued under load (in
   production the workers run on their own machines), and a consistency check: no
   graduate holds two active agreements or two destination claims, every state change
   of every invitation, agreement, termination and registration has its audit row (the
   rows chain from the first state to the current one), and every signed agreement has
   exactly one PDF.

Exits non-zero if the consistency check fails; the timing targets are reported.
"""

import argparse
import csv
import statistics
import subprocess
import time

import harness  # first: points this process at the scratch database

TARGET_RPS, TARGET_P95_MS, TARGET_HOME_SHARE = 200, 300, 0.25


def locust(users: list[str], count: int, seconds: int, port: int, tag: str):
    """Run locust headless; return its stats rows by name (plus 'Aggregated').

    People arrive at 10 a second and sign in (an Argon2 hash each); the measured
    ``seconds`` start 5 seconds after the last one is in (benchmarks/locustfile.py)."""
    prefix = harness.RUN_DIR / tag
    subprocess.run(
        [
            str(harness.VENV_BIN / "locust"), "-f", str(harness.ROOT / "benchmarks/locustfile.py"),
            "--headless", "--only-summary", "--host", f"http://127.0.0.1:{port}",
            "--users", str(count), "--spawn-rate", "10",
            "--run-time", f"{seconds + count + 60}s",  # a cap; the locustfile stops it
            "--csv", str(prefix), "--loglevel", "ERROR", "--exit-code-on-error", "0", *users,
        ],
        env={**harness.ENV, "LOAD_CREDENTIALS": str(harness.RUN_DIR / "accounts.json"),
             "LOAD_SETTLE": "5", "LOAD_DURATION": str(seconds)},
        check=True, stdout=subprocess.DEVNULL,
    )  # fmt: skip
    with open(f"{prefix}_stats.csv", encoding="utf-8") as handle:
        return {row["Name"]: row for row in csv.DictReader(handle)}


def side_by_side(port: int, rounds: int, seconds: int) -> float:
    """Requests/s of the student home page over the bare view's, alternating rounds."""
    print(
        f"\n1. Student home vs bare HttpResponse view, {rounds} alternating rounds of {seconds} s"
    )
    shares = []
    for n in range(rounds):
        bare = float(locust(["BareOnly"], 8, seconds, port, f"bare{n}")["bare view"]["Requests/s"])
        home = locust(["HomeOnly"], 8, seconds, port, f"home{n}")["student home"]
        home_rps = float(home["Requests/s"])
        shares.append(home_rps / bare)
        print(
            f"   round {n + 1}: bare {bare:7.1f} req/s, home {home_rps:6.1f} req/s "
            f"(p95 {home['95%']} ms), share {home_rps / bare:.0%}"
        )
    share = statistics.median(shares)
    verdict = "meets" if share >= TARGET_HOME_SHARE else "MISSES"
    print(f"   median share {share:.0%} ({verdict} the target of {TARGET_HOME_SHARE:.0%})")
    return share


def peak(port: int, users: int, seconds: int) -> dict:
    print(f"\n2. Peak mix: {users} simulated people for {seconds} s, once all have signed in")
    rows = locust(
        ["Graduate", "Employer", "CollegeReviewer", "SchoolReviewer"], users, seconds, port, "peak"
    )
    print(f"   {'request':<22}{'count':>8}{'errors':>8}{'req/s':>8}{'p50':>6}{'p95':>6}{'p99':>6}")
    for name, row in sorted(rows.items(), key=lambda item: item[0] == "Aggregated"):
        print(
            f"   {name:<22}{row['Request Count']:>8}{row['Failure Count']:>8}"
            f"{float(row['Requests/s']):>8.1f}{row['50%']:>6}{row['95%']:>6}{row['99%']:>6}"
        )
    total = rows["Aggregated"]
    rps, p95, errors = float(total["Requests/s"]), float(total["95%"]), int(total["Failure Count"])
    met = rps >= TARGET_RPS and p95 <= TARGET_P95_MS and errors == 0
    print(
        f"   {rps:.0f} req/s, p95 {p95:.0f} ms, {errors} errors: "
        f"{'meets' if met else 'MISSES'} the target (>= {TARGET_RPS} req/s, "
        f"p95 <= {TARGET_P95_MS} ms, 0 errors)"
    )
    return total


def drain_tasks(timeout: float = 300) -> float:
    """Wait until the worker has run every queued task; return how long it took."""
    from django_tasks.base import TaskResultStatus
    from django_tasks_db.models import DBTaskResult

    started = time.monotonic()
    waiting = [TaskResultStatus.READY, TaskResultStatus.RUNNING]
    while DBTaskResult.objects.filter(status__in=waiting).exists():
        if time.monotonic() - started > timeout:
            raise RuntimeError("the task queue did not drain")
        time.sleep(0.5)
    return time.monotonic() - started


def consistency() -> list[str]:
    """What must hold after any load: the rules the database and the services keep."""
    from django.contrib.contenttypes.models import ContentType
    from django.db.models import Count
    from django_tasks_db.models import DBTaskResult

    from agreements.models import Agreement, Invitation, Registration, Termination
    from destreg.audit.models import AuditEvent
    from students.models import DestinationClaim

    problems = []
    doubles = Agreement.objects.active().values("student").annotate(n=Count("pk")).filter(n__gt=1)
    problems += [f"student {row['student']} has {row['n']} active agreements" for row in doubles]
    for approved, kind in ((False, "in-progress"), (True, "approved")):
        doubles = (
            DestinationClaim.objects.filter(approved=approved)
            .values("student")
            .annotate(n=Count("pk"))
            .filter(n__gt=1)
        )
        problems += [f"student {row['student']} has {row['n']} {kind} claims" for row in doubles]
    for model in (Invitation, Agreement, Termination, Registration):
        content_type = ContentType.objects.get_for_model(model)
        states = dict(model.objects.values_list("pk", "status"))
        chains: dict[int, list[tuple[str, str]]] = {}
        events = AuditEvent.objects.filter(content_type=content_type).order_by("created_at", "id")
        for object_id, before, after in events.values_list("object_id", "from_state", "to_state"):
            chains.setdefault(object_id, []).append((before, after))
        for pk, status in states.items():
            chain = chains.get(pk, [])
            reached = ""
            for before, after in chain:
                if before != reached:
                    problems.append(f"{model.__name__} {pk}: {before!r} follows {reached!r}")
                reached = after
            if reached != status:
                problems.append(f"{model.__name__} {pk} is {status!r}, its audit ends {reached!r}")
    signed = Agreement.objects.exclude(number__isnull=True).exclude(number="")
    media = harness.RUN_DIR / "media" / "agreements"
    files = {path.name for path in media.glob("*.pdf")} if media.exists() else set()
    for number, pdf in signed.values_list("number", "pdf"):
        own = [name for name in files if name.startswith(f"{number}-")]
        if len(own) != 1 or not pdf.endswith(own[0]):
            problems.append(f"agreement {number}: files {own}, recorded {pdf!r}")
    failed = DBTaskResult.objects.failed().count()
    if failed:
        problems.append(f"{failed} background tasks failed")
    return problems


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument(
        "--users", type=int, default=230, help="people thinking 0.5-1.5 s: 230 ask for ~270 req/s"
    )
    parser.add_argument("--duration", type=int, default=60)
    parser.add_argument("--students", type=int, default=3000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--workers", type=int, default=5, help="gunicorn worker processes")
    parser.add_argument(
        "--threads", type=int, default=1, help="threads per gunicorn worker (1: sync workers)"
    )
    parser.add_argument("--port", type=int, default=8765)
    args = parser.parse_args()

    started = time.monotonic()
    harness.fresh_database()
    harness.setup_django()
    accounts = harness.seed(args.students, employers=40, colleges=4, invited_share=0.7)
    harness.write_accounts(accounts)
    print(
        f"Seeded {args.students:,} graduates, 40 employers, 5 reviewers "
        f"in {time.monotonic() - started:.0f} s; gunicorn --workers {args.workers} "
        f"--threads {args.threads}, PostgreSQL, Redis (cache and sessions)"
    )
    server = harness.start_server(args.port, args.workers, args.threads)
    try:
        share = side_by_side(args.port, args.rounds, 10) if args.rounds else float("nan")
        peak(args.port, args.users, args.duration)
    finally:
        harness.stop(server)
    # The PDFs and e-mails queued under load are done afterwards: in production the task
    # workers run on their own machines (docs/deploy.md), not on the web servers' cores.
    worker = harness.start_worker()
    try:
        print(f"\n3. Worker drained the queue (PDFs, e-mail) in {drain_tasks():.0f} s")
    finally:
        harness.stop(worker)
    from agreements.models import Agreement, Invitation

    counts = {
        status: Agreement.objects.filter(status=status).count()
        for status in ("college_review", "school_review", "signed")
    }
    print(f"   agreements: {counts}; invitations: {Invitation.objects.count():,}")
    problems = consistency()
    for problem in problems[:20]:
        print(f"   INCONSISTENT: {problem}")
    print(f"   consistency check: {'FAILED' if problems else 'passed'} ({len(problems)} problems)")
    if args.rounds:
        print(f"   (home/bare share {share:.0%})")
    return 1 if problems else 0


if __name__ == "__main__":
    raise SystemExit(main())
