"""Failures of what the app stands on: a full media disk, an unreachable database.

A real full disk and a real PostgreSQL restart under load are exercised by
benchmarks/faults.py; a worker killed in the middle of a PDF by
tests/agreements/test_worker_faults.py.
"""

import errno
import io
import os
from datetime import timedelta

import django.core.files.storage.filesystem as filesystem
import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.db import OperationalError
from django.urls import reverse
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from agreements.models import Agreement, Registration
from agreements.tasks import store_pdf
from destreg.audit.tasks import send_email
from destreg.lib.storage import MediaStorage, StorageUnavailable
from reviews.tasks import run_export
from tests import factories as f

STORAGE_FULL = "服务器存储空间已满或不可用"


def fill_disk(patch) -> None:
    """From now on files opened for writing in media take 100 bytes, then the disk is full."""
    real_fdopen = os.fdopen

    class FillingFile:
        def __init__(self, handle):
            self.handle, self.room = handle, 100

        def write(self, data):
            if len(data) > self.room:
                self.handle.write(data[: self.room])
                self.room = 0
                raise OSError(errno.ENOSPC, "No space left on device")
            self.room -= len(data)
            return self.handle.write(data)

        def close(self):
            self.handle.close()

    patch.setattr(
        filesystem.os, "fdopen", lambda fd, mode="r", *a: FillingFile(real_fdopen(fd, mode, *a))
    )


@pytest.fixture
def full_disk(monkeypatch):
    fill_disk(monkeypatch)


def media_files() -> list[str]:
    root = default_storage.location
    return [os.path.join(d, name) for d, _dirs, names in os.walk(root) for name in names]


def test_an_upload_on_a_full_disk_is_refused_and_the_form_kept(client, student, full_disk):
    client.force_login(student.user)
    response = client.post(
        reverse("agreements:registration_new", args=["other"]),
        {
            "kind": "conscript",
            "org_name": "某部队",
            "action": "submit",
            "proof": SimpleUploadedFile("proof.pdf", f.pdf_bytes()),
        },
    )
    page = response.content.decode()
    assert response.status_code == 200
    assert STORAGE_FULL in page
    assert "某部队" in page  # what was typed is still there
    assert not Registration.objects.exists()
    assert media_files() == []  # the half-written file was removed


def test_a_pdf_that_cannot_be_stored_is_not_recorded_and_renders_later(signed, monkeypatch):
    Agreement.objects.filter(pk=signed.pk).update(pdf="", pdf_sha256="", content_sha256="")
    for path in media_files():
        os.remove(path)
    with monkeypatch.context() as patch:
        fill_disk(patch)
        with pytest.raises(StorageUnavailable):
            store_pdf(Agreement, signed.pk)
        assert Agreement.objects.get(pk=signed.pk).pdf == ""
        assert media_files() == []
    assert store_pdf(Agreement, signed.pk) is True  # space again: the retry renders it
    assert len(media_files()) == 1
    assert Agreement.objects.get(pk=signed.pk).pdf.name.endswith(".pdf")


def test_an_unreachable_database_answers_503_in_both_languages(client, student, monkeypatch):
    client.force_login(student.user)
    client.raise_request_exception = False

    def unreachable(*args, **kwargs):
        raise OperationalError("connection to server at 127.0.0.1 failed: Connection refused")

    monkeypatch.setattr("students.views.render", unreachable)
    response = client.get(reverse("students:home"))
    assert response.status_code == 503
    assert response["Retry-After"] == "30"
    page = response.content.decode()
    assert "请半分钟后重试" in page and "Please try again" in page
    assert "Connection refused" not in page


def test_other_server_errors_stay_500(client, student, monkeypatch):
    client.force_login(student.user)
    client.raise_request_exception = False
    monkeypatch.setattr("students.views.render", lambda *a, **k: 1 / 0)
    response = client.get(reverse("students:home"))
    assert response.status_code == 500
    assert "Something went wrong" in response.content.decode()


def test_the_health_check_answers_over_plain_http_behind_the_https_redirect(client, settings):
    settings.SECURE_SSL_REDIRECT = True
    assert client.get("/healthz").content == b"ok"
    assert client.get(reverse("login")).status_code == 301


def test_the_site_works_on_while_redis_is_down(client, student, settings):
    settings.CACHES = {
        **settings.CACHES,
        # The production cache (every operation: tests/test_shared_cache.py), unreachable.
        "default": {**settings.REDIS_CACHE, "LOCATION": "redis://127.0.0.1:1/0"},
    }
    settings.SESSION_ENGINE = "django.contrib.sessions.backends.cached_db"
    client.force_login(student.user)  # the session is written through to the database
    response = client.get(reverse("students:home"))
    assert response.status_code == 200
    assert response.context["unread_notifications"] == 0
    assert response.context["student"] == student


def test_recover_tasks_retries_failed_email_but_never_restarts_an_export(db, settings):
    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
    email = send_email.enqueue("审核通过", "您的协议已审核通过。", ["s@example.com"])
    export = run_export.enqueue(1)
    long_ago = timezone.now() - timedelta(hours=1)
    rows = DBTaskResult.objects
    rows.filter(pk=email.id).update(status="FAILED", finished_at=long_ago, worker_ids=["w1"])
    rows.filter(pk=export.id).update(status="RUNNING", started_at=long_ago, worker_ids=["w1"])
    call_command("recover_tasks", stdout=io.StringIO())
    assert rows.get(pk=email.id).status == "READY"  # the mail server may be back
    assert rows.get(pk=export.id).status == "RUNNING"  # may still be writing a big file

    rows.filter(pk=email.id).update(
        status="FAILED", finished_at=long_ago, worker_ids=["w1", "w2", "w3"]
    )
    call_command("recover_tasks", stdout=io.StringIO())
    assert rows.get(pk=email.id).status == "FAILED"  # three attempts are enough


def test_two_writers_of_one_name_keep_both_files_whole(tmp_path):
    """A duplicate PDF run racing the first: the name was free when both looked."""
    storage = MediaStorage(location=tmp_path)
    first = storage._save("agreements/a.pdf", ContentFile(b"first"))
    second = storage._save("agreements/a.pdf", ContentFile(b"second"))
    assert first == "agreements/a.pdf" and second != first
    assert storage.open(first).read() == b"first" and storage.open(second).read() == b"second"
    assert sorted(os.listdir(tmp_path / "agreements")) == sorted(
        [os.path.basename(first), os.path.basename(second)]
    )  # and no partial files
