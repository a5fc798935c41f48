"""A real `manage.py db_worker` killed in the middle of rendering an agreement's PDF.

The task is left RUNNING by the dead worker; `recover_tasks` puts it back on the queue,
the next worker renders it, and exactly one PDF exists and is recorded.
"""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import quote

import pytest
from django.conf import settings as django_settings
from django.core.management import call_command
from django.db import connection
from django_tasks.base import TaskResultStatus
from django_tasks_db.models import DBTaskResult

from agreements.models import Agreement
from agreements.online import services

pytestmark = [
    pytest.mark.skipif(connection.vendor != "postgresql", reason="the worker needs PostgreSQL"),
    pytest.mark.django_db(transaction=True),
]
DATABASE_TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}


def start_worker(media: Path) -> subprocess.Popen:
    db = connection.settings_dict
    login = quote(db["USER"]) + (f":{quote(db['PASSWORD'])}" if db["PASSWORD"] else "")
    url = f"postgres://{login}@{db['HOST'] or 'localhost'}:{db['PORT'] or 5432}/{db['NAME']}"
    env = os.environ | {
        "DATABASE_URL": url,
        "TASKS_BACKEND": DATABASE_TASKS["default"]["BACKEND"],
        "MEDIA_ROOT": str(media),
    }
    return subprocess.Popen(
        [sys.executable, "manage.py", "db_worker", "--no-startup-delay", "--interval", "0.05"],
        cwd=django_settings.BASE_DIR,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def wait_for(condition, timeout: float = 60):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = condition()
        if result:
            return result
        time.sleep(0.005)
    raise AssertionError("timed out")


def test_a_worker_killed_mid_render_leaves_the_pdf_to_the_next_one(
    settings, tmp_path, agreement, college_reviewer, school_reviewer
):
    settings.TASKS = DATABASE_TASKS
    settings.MEDIA_ROOT = tmp_path
    services.agreement_approve(agreement=agreement, reviewer=college_reviewer)
    services.agreement_approve(agreement=agreement, reviewer=school_reviewer)  # queues the PDF
    task = DBTaskResult.objects.get(task_path="agreements.tasks.render_agreement")

    worker = start_worker(tmp_path)
    try:
        wait_for(lambda: DBTaskResult.objects.filter(pk=task.pk, status="RUNNING").exists())
        worker.send_signal(signal.SIGSTOP)  # frozen mid-task, then killed
        assert not Agreement.objects.get(pk=agreement.pk).pdf, "rendered before the kill"
        worker.kill()
    finally:
        worker.kill()
        worker.wait()
    task.refresh_from_db()
    assert task.status == TaskResultStatus.RUNNING  # nobody will finish it
    assert not Agreement.objects.get(pk=agreement.pk).pdf

    call_command("recover_tasks", "--minutes", "0", stdout=open(os.devnull, "w"))  # noqa: SIM115
    worker = start_worker(tmp_path)
    try:
        wait_for(lambda: DBTaskResult.objects.filter(pk=task.pk, status="SUCCESSFUL").exists())
    finally:
        worker.terminate()
        worker.wait()

    task.refresh_from_db()
    assert len(task.worker_ids) == 2  # tried by the killed worker, done by the next
    signed = Agreement.objects.get(pk=agreement.pk)
    files = list((tmp_path / "agreements").glob(f"{signed.number}-*.pdf"))
    assert [path.name for path in files] == [Path(signed.pdf.name).name]
    assert files[0].read_bytes().startswith(b"%PDF-")
