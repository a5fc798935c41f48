"""What destreg reads where, observed against a real primary and streaming replica.

Run by tests/replica/test_streaming.py in its own process, with DATABASE_URL naming the
throwaway primary (already migrated) and DATABASE_REPLICA_URL its replica:
``python -m tests.replica.scenario``. Prints one JSON object of observations on its last
line; tests/replica/test_streaming.py asserts on them.
"""

import json
import os
import sys
import time
from collections.abc import Callable

import django
import django.conf

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "destreg.settings")
django.setup()

from django.db import connections, router, transaction  # noqa: E402
from django.test import Client, override_settings  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402
from django.urls import reverse  # noqa: E402

from destreg.accounts.models import Role  # noqa: E402
from destreg.lib.replica import WROTE_COOKIE, reads_from_replica  # noqa: E402
from destreg.reference.loading import load_codes, load_regions  # noqa: E402
from destreg.reference.models import Code  # noqa: E402
from reviews import stats  # noqa: E402
from students.models import RegistryRecord  # noqa: E402
from tests import factories as f  # noqa: E402

RECORDS = "students_registryrecord"


def on_replica(sql: str) -> object:
    with connections["replica"].cursor() as cursor:
        cursor.execute(sql)
        return cursor.fetchone()[0]


def in_recovery(alias: str) -> bool:
    with connections[alias].cursor() as cursor:
        cursor.execute("SELECT pg_is_in_recovery()")
        return bool(cursor.fetchone()[0])


def wait_for(check: Callable[[], bool], timeout: float = 15) -> float:
    """Seconds until ``check()`` holds (raises after ``timeout``)."""
    start = time.monotonic()
    while not check():
        if time.monotonic() - start > timeout:
            raise TimeoutError(check)
        time.sleep(0.05)
    return time.monotonic() - start


def replica_count(college) -> int:
    return RegistryRecord.objects.using("replica").filter(college=college).count()


def primary_count(college) -> int:
    return RegistryRecord.objects.using("default").filter(college=college).count()


def pause_replay() -> None:
    on_replica("SELECT pg_wal_replay_pause()::text")
    wait_for(lambda: on_replica("SELECT pg_get_wal_replay_pause_state()") == "paused")


def resume_replay() -> None:
    on_replica("SELECT pg_wal_replay_resume()::text")


def figures_total(reviewer) -> int:
    return stats.cached(reviewer, refresh=True)["overall"].total


def served(alias: str, captured: CaptureQueriesContext) -> bool:
    """Did the captured queries of ``alias`` read the registry records?"""
    return any(RECORDS in query["sql"] for query in captured.captured_queries)


def main() -> dict:
    seen: dict = {}
    if not Code.objects.exists():  # a transactional test emptied them before the copy
        load_codes()
        load_regions()
    school = f.make_school()
    college = f.make_college(school)
    major = f.make_major(college)
    for _ in range(3):
        f.make_record(major)
    reviewer = f.make_user(Role.COLLEGE_REVIEWER, school=school, college=college)
    seen["caught_up_seconds"] = wait_for(lambda: replica_count(college) == 3)

    # Plain reads: the primary outside the scope, the replica inside it.
    seen["outside_scope_alias"] = router.db_for_read(RegistryRecord)
    seen["outside_scope_in_recovery"] = in_recovery(router.db_for_read(RegistryRecord))
    with reads_from_replica():
        seen["inside_scope_alias"] = router.db_for_read(RegistryRecord)
        seen["inside_scope_in_recovery"] = in_recovery(router.db_for_read(RegistryRecord))

    # The statistics figures are computed on the replica, nothing of them on the primary.
    with (
        CaptureQueriesContext(connections["default"]) as on_primary,
        CaptureQueriesContext(connections["replica"]) as on_standby,
    ):
        seen["statistics_total"] = figures_total(reviewer)
    seen["statistics_queries_on_replica"] = len(on_standby.captured_queries)
    seen["statistics_queries_on_primary"] = len(on_primary.captured_queries)

    # Writes, locks and transactions go to the primary, even inside the scope.
    record = RegistryRecord.objects.filter(college=college).first()
    assert record is not None
    with reads_from_replica():
        seen["write_alias"] = router.db_for_write(RegistryRecord)
        with (
            CaptureQueriesContext(connections["default"]) as on_primary,
            CaptureQueriesContext(connections["replica"]) as on_standby,
        ):
            with transaction.atomic():
                locked = RegistryRecord.objects.select_for_update().get(pk=record.pk)
                seen["read_in_transaction_alias"] = router.db_for_read(RegistryRecord)
                locked.name = "改名"
                locked.save(update_fields=["name"])
            plain = RegistryRecord.objects.get(pk=record.pk)
            plain.save(update_fields=["name"])  # read on the replica, saved on the primary
        seen["lock_on_primary"] = any("FOR UPDATE" in q["sql"] for q in on_primary.captured_queries)
        seen["lock_on_replica"] = any("FOR UPDATE" in q["sql"] for q in on_standby.captured_queries)
        seen["updates_on_primary"] = sum(
            q["sql"].startswith("UPDATE") for q in on_primary.captured_queries
        )
        seen["updates_on_replica"] = sum(
            q["sql"].startswith("UPDATE") for q in on_standby.captured_queries
        )

    # While the replica lags, a reader inside the scope sees the old rows.
    wait_for(lambda: replica_count(college) == primary_count(college))
    pause_replay()
    try:
        f.make_record(major)
        seen["lagging_primary_total"] = primary_count(college)
        seen["lagging_statistics_total"] = figures_total(reviewer)
        time.sleep(1.1)  # the replay is paused: its lag grows past a second
        with override_settings(REPLICA_MAX_LAG_SECONDS=1):
            seen["lag_guard_statistics_total"] = figures_total(reviewer)
    finally:
        resume_replay()
    seen["after_resume_seconds"] = wait_for(lambda: figures_total(reviewer) == 4)
    seen["after_resume_statistics_total"] = figures_total(reviewer)

    # Read your writes: the same browser's page after a write reads the primary.
    browser = Client()
    browser.force_login(reviewer)
    page = reverse("reviews:statistics") + "?refresh=1"
    pause_replay()
    try:
        f.make_record(major)  # another party's write the replica has not replayed
        with CaptureQueriesContext(connections["replica"]) as on_standby:
            seen["before_write_status"] = browser.get(page).status_code
        seen["before_write_page_on_replica"] = served("replica", on_standby)
        posted = browser.post(reverse("reviews:export_start"), {"fmt": "csv"})
        seen["write_status"] = posted.status_code
        seen["write_cookie_max_age"] = posted.cookies[WROTE_COOKIE]["max-age"]
        with (
            CaptureQueriesContext(connections["default"]) as on_primary,
            CaptureQueriesContext(connections["replica"]) as on_standby,
        ):
            seen["after_write_status"] = browser.get(page).status_code
            job_page = browser.get(posted["Location"])
        seen["after_write_page_on_replica"] = served("replica", on_standby)
        seen["after_write_page_on_primary"] = served("default", on_primary)
        # The export the browser just started is on the primary only, yet its page shows it.
        seen["after_write_export_page_status"] = job_page.status_code
        other_browser = Client()
        other_browser.force_login(reviewer)
        with CaptureQueriesContext(connections["replica"]) as on_standby:
            seen["other_browser_status"] = other_browser.get(page).status_code
        seen["other_browser_on_replica"] = served("replica", on_standby)
    finally:
        resume_replay()
    return seen


if __name__ == "__main__":
    # Like the test suite: plain static URLs (no collectstatic, so no manifest).
    with override_settings(
        STORAGES={
            **django.conf.settings.STORAGES,
            "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
        }
    ):
        observed = main()
    sys.stdout.write(json.dumps(observed) + "\n")
