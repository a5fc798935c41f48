"""Where the router sends reads and writes, and the read-your-writes cookie, without a real
replica (tests/replica/test_streaming.py has one): ``replica_is_separate`` and the lag
check stand in for it here. Outside a transaction, like a request, hence no ``db`` mark:
pytest-django wraps such tests in one (and inside a transaction reads use the primary)."""

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.db import transaction
from django.http import HttpResponse
from django.test import RequestFactory

from destreg.lib import replica
from destreg.lib.replica import (
    WROTE_COOKIE,
    ReadYourWritesMiddleware,
    ReplicaRouter,
    another_database,
    read_alias,
    reads_from_replica,
    replica_database,
    wrote_recently,
)
from students.models import RegistryRecord


@pytest.fixture
def a_replica(monkeypatch):
    """A separate, caught-up replica; ``checks`` counts the lag checks made."""
    checks = []

    def usable():
        checks.append(1)
        return True

    monkeypatch.setattr(replica, "replica_is_separate", lambda: True)
    monkeypatch.setattr(replica, "replica_configured", lambda: True)
    monkeypatch.setattr(replica, "_replica_usable", usable)
    return checks


def test_without_a_replica_every_read_goes_to_the_primary():
    with reads_from_replica():
        assert read_alias() == "default"
    assert ReplicaRouter().db_for_read(RegistryRecord) == "default"


def test_reads_go_to_the_replica_only_inside_the_scope(a_replica):
    router = ReplicaRouter()
    assert router.db_for_read(RegistryRecord) == "default"
    with reads_from_replica():
        assert router.db_for_read(RegistryRecord) == "replica"
        assert router.db_for_read(RegistryRecord) == "replica"
    assert router.db_for_read(RegistryRecord) == "default"
    assert len(a_replica) == 1  # the lag is checked once per scope, on its first read


def test_the_scope_works_as_a_decorator(a_replica):
    @reads_from_replica()
    def figures():
        return read_alias()

    assert figures() == "replica"
    assert read_alias() == "default"


@pytest.mark.django_db(transaction=True)
def test_writes_and_transactions_use_the_primary(a_replica):
    router = ReplicaRouter()
    with reads_from_replica():
        assert router.db_for_write(RegistryRecord) == "default"
        with transaction.atomic():
            assert router.db_for_read(RegistryRecord) == "default"
        assert router.db_for_read(RegistryRecord) == "replica"


def test_a_lagging_or_unreachable_replica_leaves_reads_on_the_primary(monkeypatch, a_replica):
    monkeypatch.setattr(replica, "_replica_usable", lambda: False)
    with reads_from_replica():
        assert read_alias() == "default"


def test_only_the_primary_is_migrated():
    router = ReplicaRouter()
    assert router.allow_migrate("default", "students") is True
    assert router.allow_migrate("replica", "students") is False
    assert router.allow_relation(object(), object()) is True


def test_the_replica_alias_mirrors_the_primary_under_tests():
    primary = {"ENGINE": "django.db.backends.postgresql", "NAME": "destreg", "PORT": 5432}
    primary["OPTIONS"] = {"prepare_threshold": 5}
    alias = replica_database(primary, {"NAME": "destreg", "HOST": "standby", "PORT": 5433})
    assert alias["TEST"] == {"MIRROR": "default"}
    assert alias["HOST"] == "standby"
    assert alias["OPTIONS"] == {"prepare_threshold": 5}
    assert another_database(alias, primary) is True
    # What the test runner makes of a mirror: the primary's name, host and port.
    assert another_database({**alias, "HOST": None, "PORT": 5432}, primary) is False


@pytest.mark.parametrize(
    ("age", "fresh"),
    [(None, False), ("", False), ("x", False), (5, True), (3600, False), (-60, False)],
)
def test_a_browser_wrote_recently_while_its_cookie_is_fresh(age, fresh):
    cookie = f"{time.time() - age:.3f}" if isinstance(age, int) else age
    assert wrote_recently(cookie) is fresh


def seen_by_view(request_method: str, cookies: dict | None = None):
    """The read alias inside a replica scope during the view, and the response."""
    seen = {}

    def view(request):
        with reads_from_replica():
            seen["alias"] = read_alias()
        return HttpResponse("ok")

    request = getattr(RequestFactory(), request_method)("/reviews/statistics/")
    request.COOKIES.update(cookies or {})
    response = ReadYourWritesMiddleware(view)(request)
    return seen["alias"], response


def test_a_post_reads_the_primary_and_marks_the_browser(settings, a_replica):
    settings.REPLICA_READ_YOUR_WRITES_SECONDS = 30
    alias, response = seen_by_view("post")
    assert alias == "default"
    cookie = response.cookies[WROTE_COOKIE]
    assert cookie["max-age"] == 30
    assert cookie["httponly"] is True
    assert wrote_recently(cookie.value)


def test_the_next_page_of_that_browser_reads_the_primary(a_replica):
    alias, response = seen_by_view("get", {WROTE_COOKIE: f"{time.time():.3f}"})
    assert alias == "default"
    assert WROTE_COOKIE not in response.cookies  # a read does not extend the time


def test_other_browsers_and_later_pages_read_the_replica(a_replica):
    assert seen_by_view("get")[0] == "replica"
    assert seen_by_view("get", {WROTE_COOKIE: f"{time.time() - 3600:.3f}"})[0] == "replica"


def test_without_a_replica_the_middleware_sets_no_cookie():
    alias, response = seen_by_view("post")
    assert alias == "default"
    assert WROTE_COOKIE not in response.cookies


@pytest.mark.parametrize(
    ("primary", "refusal"),
    [
        ("", "DATABASE_REPLICA_URL needs DATABASE_URL"),
        ("sqlite:////tmp/destreg-primary.sqlite3", "needs a PostgreSQL primary"),
    ],
)
def test_a_replica_without_a_postgresql_primary_is_refused_at_start(primary, refusal):
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("DATABASE")},
        "DATABASE_URL": primary,
        "DATABASE_REPLICA_URL": "postgres://destreg@replica:5432/destreg",
    }
    done = subprocess.run(
        [sys.executable, "-c", "import destreg.settings"],
        cwd=Path(__file__).resolve().parents[2],
        env=env,
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    assert done.returncode != 0
    assert refusal in done.stderr
