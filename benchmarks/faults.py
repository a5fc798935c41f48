"""Faults on the running system: PostgreSQL restarted under load, media on a full disk.

    sudo .venv/bin/python benchmarks/faults.py [--threads 8] [--seconds 30]

Needs root: it restarts this machine's PostgreSQL cluster (pg_ctlcluster) and Redis, and
mounts a 1 MB tmpfs as the media folder. Runs gunicorn and one task worker with production
settings against a scratch database (LOAD_DATABASE_URL, default .../destreg_faults).

1. PostgreSQL restart under load: signed-in graduates request their pages from
   ``--threads`` threads; a third of the way in, the cluster restarts. Every failed request
   must be a clean 503 page (no 500, no dropped connection), the app must recover by itself
   (gunicorn is not restarted), and nothing may fail once it has.
2. Redis (cache and sessions) stopped for a third of a run under load: every request must
   still answer 200, graduates still signed in (sessions are read from PostgreSQL).
3. Full disk: a graduate submits a registration with a 600 KB proof while media is full:
   the form comes back saying so, with what was typed; nothing is recorded and no partial
   file is left. After space is freed the same submission succeeds. A signed agreement's
   PDF rendered by the worker on the full disk fails without recording anything; after
   space is freed, `manage.py recover_tasks` queues it again and the PDF appears, once.
The worker killed in the middle of a PDF is tested in tests/agreements/test_worker_faults.py.
Exits non-zero if any expectation fails.
"""

import argparse
import io
import os
import re
import subprocess
import threading
import time
from collections import Counter
from pathlib import Path

os.environ.setdefault("LOAD_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/destreg_faults")
import harness  # first: points this process at the scratch database
import requests

PORT = 8767
BASE = f"http://127.0.0.1:{PORT}"
CSRF = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')
failures: list[str] = []


def expect(condition: bool, what: str) -> None:
    print(f"   {'ok ' if condition else 'FAIL'} {what}")
    if not condition:
        failures.append(what)


def signed_in(username: str) -> requests.Session:
    session = requests.Session()
    page = session.get(f"{BASE}/login/", timeout=10)
    token = CSRF.search(page.text).group(1)
    answer = session.post(
        f"{BASE}/login/",
        data={"username": username, "password": harness.PASSWORD, "csrfmiddlewaretoken": token},
        allow_redirects=False,
        timeout=10,
    )
    assert answer.status_code == 302, answer.status_code
    return session


def browse_during(usernames: list[str], seconds: float, fault) -> tuple[list, float, float]:
    """Signed-in graduates request their pages for ``seconds``; a third of the way in,
    ``fault()`` runs. Returns the log of (time, outcome) and when the fault began and ended."""
    sessions = [signed_in(name) for name in usernames]
    log: list[tuple[float, str]] = []  # (time, outcome): a status code or an exception name
    started = time.monotonic()

    def browse(session: requests.Session) -> None:
        while time.monotonic() - started < seconds:
            for url in ("/students/", "/agreements/invitations/"):
                try:
                    response = session.get(BASE + url, timeout=30, allow_redirects=False)
                    outcome = str(response.status_code)
                    if response.status_code == 503 and "请半分钟后重试" not in response.text:
                        outcome = "503 without our page"
                except requests.RequestException as error:
                    outcome = type(error).__name__
                log.append((time.monotonic() - started, outcome))

    threads = [threading.Thread(target=browse, args=(s,)) for s in sessions]
    for thread in threads:
        thread.start()
    time.sleep(seconds / 3)
    fault_at = time.monotonic() - started
    fault()
    fault_end = time.monotonic() - started
    for thread in threads:
        thread.join()
    return log, fault_at, fault_end


def restart_under_load(usernames: list[str], seconds: float) -> None:
    print(f"\n1. PostgreSQL restarted under load ({len(usernames)} graduates, {seconds:.0f} s)")
    cluster = sorted(os.listdir("/etc/postgresql"))[-1]
    command = ["pg_ctlcluster", "--skip-systemctl-redirect", cluster, "main", "restart"]
    log, restart_at, back_at = browse_during(
        usernames, seconds, lambda: subprocess.run(command, check=True)
    )
    from django.db import connection

    connection.close()  # this process's connection died with the restart too

    before = Counter(o for t, o in log if t < restart_at)
    failed = sorted(t for t, o in log if t >= restart_at and o != "200")
    last_failure = failed[-1] if failed else restart_at
    after = Counter(o for t, o in log if t > last_failure)
    during = Counter(o for t, o in log if restart_at <= t <= last_failure)
    print(f"   restart took {back_at - restart_at:.1f} s (pg_ctlcluster)")
    print(f"   before: {dict(before)}")
    print(f"   from the restart to the last failure ({last_failure - restart_at:.1f} s): "
          f"{dict(during)}")  # fmt: skip
    print(f"   after ({seconds - last_failure:.1f} s): {dict(after)}")
    expect(set(before) == {"200"}, "no failures before the restart")
    expect(set(during) <= {"200", "503"}, "every failure during the restart is our 503 page")
    expect(set(after) == {"200"} and after["200"] > 0, "the app recovered without a restart")
    expect(last_failure - restart_at < 15, "recovered within 15 s of the restart")


def redis_down_under_load(usernames: list[str], seconds: float) -> None:
    """Redis (cache and sessions) stopped for a third of the run, then started again."""
    print(f"\n2. Redis stopped under load for {seconds / 3:.0f} s")

    def outage() -> None:
        subprocess.run(["redis-cli", "-p", "6379", "shutdown", "nosave"], check=False)
        time.sleep(seconds / 3)
        subprocess.run(
            [
                "redis-server",
                "--daemonize",
                "yes",
                "--bind",
                "127.0.0.1",
                "-::1",
                "--port",
                "6379",
                "--save",
                "",
                "--appendonly",
                "no",
                "--dir",
                "/var/lib/redis",
                "--logfile",
                "/var/log/redis/ci.log",
            ],
            check=True,
        )  # fmt: skip  (as the machine starts it)

    log, down_at, up_at = browse_during(usernames, seconds, outage)
    phases = {
        "before": Counter(o for t, o in log if t < down_at),
        "while Redis was down": Counter(o for t, o in log if down_at <= t < up_at),
        "after": Counter(o for t, o in log if t >= up_at),
    }
    for phase, outcomes in phases.items():
        print(f"   {phase}: {dict(outcomes)}")
    expect(
        all(set(o) == {"200"} for o in phases.values()) and phases["while Redis was down"],
        "every request answered 200 (signed in, from PostgreSQL) while Redis was down",
    )


def fill(media: Path, leave_bytes: int) -> Path:
    """Fill the media disk but for ``leave_bytes``."""
    filler = media / "filler"
    free = os.statvfs(media).f_bavail * os.statvfs(media).f_frsize
    filler.write_bytes(b"\0" * max(free - leave_bytes, 0))
    return filler


def media_files(media: Path) -> list[str]:
    return sorted(
        str(p.relative_to(media)) for p in media.rglob("*") if p.is_file() and p.name != "filler"
    )


def full_disk(username: str, agreement_id: int) -> None:
    from django.core.management import call_command
    from PIL import Image

    from agreements.models import Agreement, Registration
    from students.models import Student

    print("\n3. Media on a full disk (a 1 MB tmpfs)")
    media = harness.RUN_DIR / "media"
    media.mkdir(exist_ok=True)
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", str(media)], check=True)
    try:
        noise = Image.frombytes("RGB", (450, 450), os.urandom(450 * 450 * 3))
        proof = io.BytesIO()
        noise.save(proof, "PNG")
        session = signed_in(username)
        url = f"{BASE}/agreements/register/other/new/"
        form = {"kind": "conscript", "org_name": "某部队", "action": "submit"}

        def submit() -> requests.Response:
            token = CSRF.search(session.get(url, timeout=10).text).group(1)
            files = {"proof": ("proof.png", proof.getvalue(), "image/png")}
            return session.post(
                url, data={**form, "csrfmiddlewaretoken": token}, files=files,
                allow_redirects=False, timeout=30,
            )  # fmt: skip

        filler = fill(media, 100_000)
        student = Student.objects.get(user__username=username)
        response = submit()
        expect(
            response.status_code == 200 and "服务器存储空间已满" in response.text,
            f"a {len(proof.getvalue()) // 1000} KB upload on the full disk is refused, "
            f"saying why (HTTP {response.status_code})",
        )
        expect("某部队" in response.text, "the form keeps what was typed")
        expect(not Registration.objects.filter(student=student).exists(), "nothing recorded")
        expect(media_files(media) == [], f"no partial file left ({media_files(media)})")
        filler.unlink()
        response = submit()
        expect(response.status_code == 302, "the same submission succeeds once there is room")
        stored = Registration.objects.get(student=student).proof.name
        expect(media_files(media) == [stored], "its file is the one recorded")

        fill(media, 20_000)
        worker = harness.start_worker()
        try:
            from agreements.online import services
            from destreg.accounts.models import User

            agreement = Agreement.objects.get(pk=agreement_id)
            for reviewer in User.objects.filter(role__in=["college_reviewer", "school_reviewer"]):
                if (
                    reviewer.role == "school_reviewer"
                    or reviewer.college_id == agreement.college_id
                ):
                    services.agreement_approve(agreement=agreement, reviewer=reviewer)
                    agreement.refresh_from_db()
            render = wait_for_task("agreements.tasks.render_agreement", agreement_id)
            agreement.refresh_from_db()
            expect(render == "FAILED", f"rendering on the full disk fails (task {render})")
            expect(not agreement.pdf, "no PDF recorded")
            expect(not list(media.glob("agreements/*.pdf")), "no partial PDF left")
            (media / "filler").unlink()
            call_command("recover_tasks", "--minutes", "0", stdout=io.StringIO())
            render = wait_for_task("agreements.tasks.render_agreement", agreement_id, "SUCCESSFUL")
            agreement.refresh_from_db()
            pdfs = [p.name for p in media.glob("agreements/*.pdf")]
            expect(
                bool(agreement.pdf) and pdfs == [Path(agreement.pdf.name).name],
                f"after recover_tasks the PDF appears, once ({pdfs})",
            )
        finally:
            harness.stop(worker)
    finally:
        subprocess.run(["umount", str(media)], check=False)


def wait_for_task(path: str, object_id: int, status: str = "", timeout: float = 60) -> str:
    """The latest task for ``object_id`` once it has finished (with ``status``, if given)."""
    from django_tasks_db.models import DBTaskResult

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        latest = (
            DBTaskResult.objects.filter(task_path=path, args_kwargs__args=[object_id])
            .order_by("-enqueued_at")
            .first()
        )
        if latest and latest.status in ("SUCCESSFUL", "FAILED") and status in ("", latest.status):
            return latest.status
        time.sleep(0.2)
    return "TIMEOUT"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--threads", type=int, default=8)
    parser.add_argument("--seconds", type=float, default=30)
    args = parser.parse_args()
    if os.geteuid() != 0:
        raise SystemExit("faults.py restarts PostgreSQL and mounts a tmpfs: run it as root")

    harness.fresh_database()
    harness.setup_django()
    accounts = harness.seed(args.threads + 1, employers=1, colleges=1, invited_share=1.0)
    from agreements.models import Invitation
    from agreements.online import services

    # The last graduate accepts an invitation: its agreement is signed on the full disk.
    last = accounts["students"][-1]["username"]
    invitation = Invitation.objects.get(student__user__username=last)
    agreement = services.invitation_accept(invitation=invitation, user=invitation.student.user)
    server = harness.start_server(PORT, workers=2, threads=2)
    try:
        browsers = [a["username"] for a in accounts["students"][:-1]]
        restart_under_load(browsers, args.seconds)
        redis_down_under_load(browsers, args.seconds)
        full_disk(accounts["students"][0]["username"], agreement.pk)
    finally:
        harness.stop(server)
    print(f"\n{len(failures)} expectations failed" if failures else "\nall expectations held")
    return 1 if failures else 0


if __name__ == "__main__":
    raise SystemExit(main())
