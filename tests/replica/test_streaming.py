"""The read replica against a real streaming replica: what is read where, what a reader sees
while the replica lags, and read-your-writes (tests/replica/scenario.py observes, in a
process of its own whose "default" and "replica" are the throwaway pair)."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.db import connections

from tests.replica.pair import BIN

# django_db: pytest-django makes the test database whose tables copy_schema copies.
pytestmark = [pytest.mark.postgres, pytest.mark.django_db]

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def seen(replica_pair, tmp_path_factory, django_db_setup):
    var = tmp_path_factory.mktemp("replica-var")
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("DATABASE", "CACHE_URL", "TASKS_BACKEND", "PYTEST", "REPLICA"))
    }
    env |= {
        "DATABASE_URL": replica_pair.primary_url,
        "DATABASE_REPLICA_URL": replica_pair.replica_url,
        "DESTREG_VAR_DIR": str(var),
        "MEDIA_ROOT": str(var / "media"),
        # The scenario pauses the replay for seconds; the lag guard is tested on its own.
        "REPLICA_MAX_LAG_SECONDS": "3600",
        "AXES_ENABLED": "false",
    }
    copy_schema(replica_pair)
    done = subprocess.run(
        [sys.executable, "-m", "tests.replica.scenario"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-4000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


def copy_schema(pair) -> None:
    """The test database (migrated by pytest-django, with the code tables its migrations
    load) into the throwaway primary: seconds, where running every migration again takes
    20 to 60 here. The replica receives it by streaming."""
    test_db = connections["default"].settings_dict
    env = {**os.environ, "PGPASSWORD": test_db.get("PASSWORD") or ""}
    dump = subprocess.run(  # noqa: S603 (the PostgreSQL binaries, the test database)
        [
            str(BIN / "pg_dump"),
            "--no-owner",
            "--no-privileges",
            "-h",
            test_db.get("HOST") or "127.0.0.1",
            "-p",
            str(test_db.get("PORT") or 5432),
            "-U",
            test_db.get("USER") or "postgres",
            test_db["NAME"],
        ],
        env=env,
        capture_output=True,
        check=True,
        timeout=120,
    )
    subprocess.run(  # noqa: S603
        [str(BIN / "psql"), "-q", "-v", "ON_ERROR_STOP=1", pair.url(pair.primary_port)],
        input=dump.stdout,
        capture_output=True,
        check=True,
        timeout=120,
    )


def test_plain_reads_use_the_primary_outside_the_scope(seen):
    assert seen["outside_scope_alias"] == "default"
    assert seen["outside_scope_in_recovery"] is False


def test_reads_inside_the_scope_are_served_by_the_replica(seen):
    assert seen["inside_scope_alias"] == "replica"
    assert seen["inside_scope_in_recovery"] is True


def test_statistics_are_computed_on_the_replica(seen):
    assert seen["statistics_total"] == 3
    assert seen["statistics_queries_on_replica"] > 0
    assert seen["statistics_queries_on_primary"] == 0


def test_writes_locks_and_transactions_use_the_primary(seen):
    assert seen["write_alias"] == "default"
    assert seen["read_in_transaction_alias"] == "default"
    assert seen["lock_on_primary"] is True
    assert seen["lock_on_replica"] is False
    assert seen["updates_on_primary"] == 2
    assert seen["updates_on_replica"] == 0


def test_a_reader_sees_old_figures_while_the_replica_lags(seen):
    assert seen["lagging_primary_total"] == 4
    assert seen["lagging_statistics_total"] == 3
    assert seen["after_resume_statistics_total"] == 4


def test_too_much_lag_sends_the_reader_to_the_primary(seen):
    assert seen["lag_guard_statistics_total"] == 4


def test_the_page_after_a_browsers_write_reads_the_primary(seen):
    assert seen["before_write_status"] == 200
    assert seen["before_write_page_on_replica"] is True
    assert seen["write_status"] == 302
    assert seen["write_cookie_max_age"] == 30
    assert seen["after_write_status"] == 200
    assert seen["after_write_page_on_replica"] is False
    assert seen["after_write_page_on_primary"] is True
    # The export job exists on the primary only (the replay is paused), and its page shows it.
    assert seen["after_write_export_page_status"] == 200


def test_another_browser_of_the_same_user_still_reads_the_replica(seen):
    assert seen["other_browser_status"] == 200
    assert seen["other_browser_on_replica"] is True
