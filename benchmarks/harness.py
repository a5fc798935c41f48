"""What the load and fault runs share: a scratch PostgreSQL database filled with a
graduating class, and the production processes (gunicorn, the task worker) started
against it with production settings, as docs/deploy.md describes them.

Import this module before Django is set up: it points DATABASE_URL (and the rest of
the production environment) at the scratch database for this process and its children.
"""

import json
import os
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

import scratch

ROOT = Path(__file__).resolve().parent.parent
VENV_BIN = ROOT / ".venv" / "bin"
URL = os.environ.get("LOAD_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/destreg_load")
PASSWORD = "Load-Test-2026"
RUN_DIR = Path(tempfile.mkdtemp(prefix="destreg-load-"))

# Production settings, less TLS (the load runs on loopback without a proxy).
ENV = {
    **os.environ,
    "DATABASE_URL": URL,
    "DEBUG": "false",
    "SECRET_KEY": "load-test-only-" + "x" * 50,
    "ALLOWED_HOSTS": "127.0.0.1,localhost",
    "SITE_URL": "http://127.0.0.1",
    "TASKS_BACKEND": "django_tasks_db.DatabaseBackend",
    "CACHE_URL": os.environ.get("LOAD_CACHE_URL", "redis://127.0.0.1:6379/15"),
    "EMAIL_BACKEND": "django.core.mail.backends.locmem.EmailBackend",
    "DESTREG_VAR_DIR": str(RUN_DIR),
    "MEDIA_ROOT": str(RUN_DIR / "media"),
    "LOG_LEVEL": "WARNING",
    "DJANGO_SETTINGS_MODULE": "destreg.settings",
}
os.environ.update(ENV)
sys.path.insert(0, str(ROOT))


def fresh_database() -> None:
    scratch.fresh_database(URL)


def setup_django() -> None:
    import django

    django.setup()
    from django.core.cache import cache
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    call_command("load_reference", verbosity=0)
    call_command("collectstatic", interactive=False, verbosity=0)
    cache.clear()


def seed(students: int, employers: int, colleges: int, invited_share: float) -> dict:
    """A school with ``colleges`` colleges and ``students`` confirmed graduates, verified
    employers, one reviewer per college and one for the school; most graduates already
    hold an invitation. Returns the accounts (for locust) as JSON-ready data."""
    from django.contrib.auth.hashers import make_password
    from django.test import override_settings
    from django.utils import timezone
    from django_otp.plugins.otp_totp.models import TOTPDevice
    from django_tasks_db.models import DBTaskResult

    from agreements.models import Hukou
    from agreements.online import services
    from destreg.accounts.models import Role, User
    from destreg.reference.models import CodeTable
    from tests import factories as f

    # Seeding hashes thousands of passwords: hash cheaply, then give everyone the same
    # Argon2 hash, so the app still verifies real Argon2 hashes at sign-in.
    with override_settings(PASSWORD_HASHERS=["django.contrib.auth.hashers.MD5PasswordHasher"]):
        school = f.make_school(name="负载大学")
        majors = [f.make_major(f.make_college(school)) for _ in range(colleges)]
        graduates = [
            f.make_student(f.make_record(majors[n % colleges], name=f"毕业生{n}"))
            for n in range(students)
        ]
        units = [f.make_employer(verified_at=timezone.now()) for _ in range(employers)]
        senders = [f.make_user(Role.EMPLOYER, employer=unit) for unit in units]
        college_reviewers = [
            f.make_user(Role.COLLEGE_REVIEWER, school=school, college=major.college)
            for major in majors
        ]
        school_reviewer = f.make_user(Role.SCHOOL_REVIEWER, school=school)
    User.objects.update(password=make_password(PASSWORD))
    # A school reviewer signs in with a second factor: an enrolled authenticator whose
    # codes change every second (not 30), so the simulated people sharing this account can
    # all sign in within seconds; locustfile.py computes the codes from the key.
    authenticator = TOTPDevice.objects.create(
        user=school_reviewer, name="load", confirmed=True, step=1
    )
    terms = {
        "job_category": f.code(CodeTable.JOB_CATEGORY, "13"),
        "position": "工程师",
        "work_location": "北京市海淀区",
        "probation_months": 3,
        "probation_salary": 8000,
        "salary": 10000,
        "penalty": 3000,
        "hukou": Hukou.EMPLOYER,
    }
    for n, graduate in enumerate(graduates[: int(students * invited_share)]):
        services.invitation_send(
            sender=senders[n % employers],
            name=graduate.real_name,
            id_number=graduate.id_number,
            terms=terms,
        )
    # The seeding's own notification e-mails are not part of any measurement.
    DBTaskResult.objects.all().delete()
    return {
        "password": PASSWORD,
        "students": [{"username": g.user.username} for g in graduates],
        "graduates": [{"name": g.real_name, "id_number": g.id_number} for g in graduates],
        "employers": [{"username": u.username} for u in senders],
        "college": [{"username": u.username} for u in college_reviewers],
        "school": [
            {
                "username": school_reviewer.username,
                "totp_key": authenticator.key,
                "totp_step": authenticator.step,
            }
        ],
    }


def write_accounts(accounts: dict) -> Path:
    path = RUN_DIR / "accounts.json"
    path.write_text(json.dumps(accounts, ensure_ascii=False), encoding="utf-8")
    return path


def start_server(port: int, workers: int, threads: int) -> subprocess.Popen:
    """gunicorn as in docs/deploy.md, and wait until it answers."""
    server = subprocess.Popen(
        [
            str(VENV_BIN / "gunicorn"), "-c", "destreg/gunicorn.conf.py", "destreg.wsgi",
            "--bind", f"127.0.0.1:{port}",
            "--workers", str(workers), "--threads", str(threads), "--log-level", "warning",
        ],
        cwd=ROOT, env=ENV,
    )  # fmt: skip
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2):
                return server
        except OSError:
            time.sleep(0.2)
    server.kill()
    raise RuntimeError("gunicorn did not start")


def start_worker() -> subprocess.Popen:
    """One `manage.py db_worker` (PDFs and e-mail)."""
    return subprocess.Popen(
        [str(VENV_BIN / "python"), "manage.py", "db_worker", "--interval", "0.2",
         "--no-startup-delay", "--verbosity", "0"],
        cwd=ROOT, env=ENV,
    )  # fmt: skip


def stop(process: subprocess.Popen, sig: int = signal.SIGTERM) -> None:
    if process.poll() is None:
        process.send_signal(sig)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
