"""The shared cache (django-redis, destreg/settings.py): every operation the code uses answers
as a miss would while Redis is unreachable, and works on a real Redis; its keys carry the
release (destreg/lib/release.py).

A Redis stopped under load is exercised by benchmarks/faults.py.
"""

import logging
import re
import shutil
import socket
import subprocess
import time
from pathlib import Path

import pytest
from django.core.cache import cache
from django.core.exceptions import ImproperlyConfigured
from django.test import RequestFactory
from redis.exceptions import ConnectionError as RedisConnectionError

from agreements.verification import UPLOAD_CHECKS_PER_MINUTE, upload_check_allowed
from destreg.accounts import throttling
from destreg.audit.models import Notification
from destreg.lib.cache import FORGOTTEN, forget, remember
from destreg.lib.release import code_digest, release
from reviews import stats
from students.services import _signup_allowed

UNREACHABLE = "redis://127.0.0.1:1/0"  # nothing listens there
LOCAL = "redis://127.0.0.1:6379/14"  # the machine's Redis, a spare database


def use_redis(settings, location: str, **extra) -> None:
    """The production cache settings (settings.REDIS_CACHE), pointed at ``location``."""
    settings.CACHES = {
        **settings.CACHES,
        "default": {**settings.REDIS_CACHE, "LOCATION": location, **extra},
    }


@pytest.fixture
def redis_down(settings):
    use_redis(settings, UNREACHABLE)


@pytest.fixture
def redis_up(settings):
    use_redis(settings, LOCAL)
    cache.clear()
    yield
    cache.clear()


# --- Redis unreachable: a cache that misses --------------------------------------------------


def test_reads_answer_the_default_while_redis_is_down(redis_down):
    assert cache.get("k") is None
    assert cache.get("k", ()) == ()  # the sign-in throttle's failed accounts
    assert cache.get("k", default="gone") == "gone"
    assert cache.get_many(["k", "l"]) == {}


def test_writes_are_skipped_and_report_nothing_stored_while_redis_is_down(redis_down):
    assert not cache.add("k", 1, 30)  # "already there": e.g. no PDF retry is queued twice
    assert not cache.set("k", 1, 30)
    cache.set_many({"k": 1, "l": 2}, 30)
    cache.delete("k")
    cache.delete_many(["k", "l"])
    assert cache.incr("k") is None  # a rate limit that cannot count lets the request through


# What tests/test_shared_cache.py shows answering as a miss while Redis is down. Not every
# django-redis operation does: touch() (7.0) raises, since its client does not wrap the error.
SAFE_WHILE_DOWN = {"get", "get_many", "set", "set_many", "add", "delete", "delete_many", "incr"}


def test_the_code_uses_only_operations_that_answer_as_a_miss_while_redis_is_down():
    root = Path(__file__).resolve().parent.parent
    used = set()
    for folder in ("destreg", "students", "employers", "agreements", "reviews"):
        for path in (root / folder).rglob("*.py"):
            used |= set(re.findall(r"\bcache\.([a-z_]+)\(", path.read_text(encoding="utf-8")))
    assert used <= SAFE_WHILE_DOWN, used - SAFE_WHILE_DOWN


def test_touch_is_not_safe_while_redis_is_down(redis_down):
    with pytest.raises(RedisConnectionError):
        cache.touch("k", 30)


def test_every_skipped_operation_is_logged(redis_down, caplog):
    with caplog.at_level(logging.ERROR, logger="django_redis"):
        cache.get("k")
        cache.incr("k")
    assert [record.levelname for record in caplog.records] == ["ERROR", "ERROR"]
    assert all(record.exc_info for record in caplog.records)  # with the Redis error


def test_rate_limits_let_requests_through_while_redis_is_down(redis_down):
    assert all(_signup_allowed("10.0.0.1") for _ in range(100))
    assert all(upload_check_allowed("10.0.0.1") for _ in range(UPLOAD_CHECKS_PER_MINUTE * 3))


def test_the_sign_in_throttle_counts_nothing_and_blocks_nobody_while_redis_is_down(
    redis_down, settings
):
    settings.LOGIN_CLIENT_ACCOUNT_LIMIT = 1
    request = RequestFactory().post("/login/")
    throttling.count_failed_account(None, {"username": "someone"}, request=request)
    assert not throttling.client_is_blocked(request)


def test_cached_rows_are_read_from_the_database_while_redis_is_down(redis_down, student):
    assert remember("row", lambda: "from the database", 60) == "from the database"
    forget("row")  # nothing to mark: no error either
    assert Notification.unread_count(student.user) == 0
    Notification.forget_unread_counts([student.user.pk])


def test_statistics_are_computed_while_redis_is_down(redis_down, school_reviewer):
    first, second = stats.cached(school_reviewer), stats.cached(school_reviewer)
    assert first["overall"] == stats.compute(school_reviewer)["overall"]
    assert second["computed_at"] > first["computed_at"]  # computed again: nothing was kept


# --- Redis up ------------------------------------------------------------------------------


def test_the_redis_cache_works_and_reuses_one_client(redis_up):
    cache.set("destreg-test", {"n": 1}, 30)
    assert cache.get("destreg-test") == {"n": 1}
    assert cache.get_many(["destreg-test", "missing"]) == {"destreg-test": {"n": 1}}
    assert not cache.add("destreg-test", {"n": 2}, 30)  # add never overwrites
    cache.delete("destreg-test")
    assert cache.get("destreg-test", "gone") == "gone"
    # Django's own client built a redis.Redis per call; django-redis keeps one per server.
    assert cache.client.get_client() is cache.client.get_client(write=False)


def test_incr_counts_and_refuses_a_missing_key(redis_up):
    """The rate limits rely on both (students/services.py, agreements/verification.py)."""
    assert cache.add("n", 0, 30)
    assert [cache.incr("n") for _ in range(3)] == [1, 2, 3]
    assert 0 < cache.ttl("n") <= 30  # counting keeps the window's end
    with pytest.raises(ValueError):
        cache.incr("missing")


def test_a_rate_limit_stops_at_its_limit(redis_up):
    allowed = [upload_check_allowed("10.0.0.2") for _ in range(UPLOAD_CHECKS_PER_MINUTE + 2)]
    assert allowed == [True] * UPLOAD_CHECKS_PER_MINUTE + [False, False]


def test_a_forgotten_row_is_not_cached_again_until_the_mark_expires(redis_up, db):
    forget("row")
    assert remember("row", lambda: "fresh", 60) == "fresh"
    assert cache.get("row") == FORGOTTEN


@pytest.fixture
def own_redis(settings, tmp_path):
    """A Redis of this test's own (so stopping it disturbs nobody), used as the cache."""
    if not shutil.which("redis-server"):
        pytest.skip("redis-server is not installed")
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    command = ["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", ""]
    command += ["--appendonly", "no", "--dir", str(tmp_path)]

    def start() -> subprocess.Popen:
        server = subprocess.Popen(command, stdout=subprocess.DEVNULL)  # noqa: S603 (fixed)
        for _ in range(100):
            with socket.socket() as client:
                if client.connect_ex(("127.0.0.1", port)) == 0:
                    return server
            time.sleep(0.05)
        raise RuntimeError("redis-server did not start")

    use_redis(settings, f"redis://127.0.0.1:{port}/0")
    servers = [start()]
    yield servers, start
    for server in servers:
        server.kill()
        server.wait()


def test_the_cache_misses_while_redis_is_stopped_and_works_again_once_it_is_back(own_redis):
    """What benchmarks/faults.py does under load, in one process: nobody reconnects by hand."""
    servers, start = own_redis
    cache.set("k", "before", 60)
    assert cache.get("k") == "before"
    servers[0].kill()
    servers[0].wait()
    assert cache.get("k", "missed") == "missed"
    assert cache.incr("k") is None
    assert not cache.add("n", 0, 60)
    servers.append(start())  # an empty Redis, as after a restart
    assert cache.get("k", "missed") == "missed"
    assert cache.add("n", 0, 60)
    assert cache.incr("n") == 1


# --- Keys carry the release ----------------------------------------------------------------


def test_keys_carry_the_release(redis_up, settings):
    cache.set("k", 1, 30)
    raw = cache.client.get_client()
    assert raw.exists(f"destreg-{settings.RELEASE}:1:k")


def test_a_new_release_never_reads_what_the_old_one_wrote(settings):
    use_redis(settings, LOCAL, KEY_PREFIX="destreg-old")
    cache.set("students:home:1", "written by the old code", 30)
    use_redis(settings, LOCAL, KEY_PREFIX="destreg-new")
    assert cache.get("students:home:1") is None
    use_redis(settings, LOCAL, KEY_PREFIX="destreg-old")
    assert cache.get("students:home:1") == "written by the old code"
    cache.delete("students:home:1")


def test_the_release_is_the_variable_or_else_the_codes_digest(tmp_path):
    assert release("2026.12.1", tmp_path) == "2026.12.1"
    assert release("", Path(__file__).resolve().parent.parent) == code_digest(
        Path(__file__).resolve().parent.parent
    )
    with pytest.raises(ImproperlyConfigured):
        release("v1 beta", tmp_path)  # a space has no place in a cache key


def test_the_digest_changes_with_the_code_and_the_locked_libraries(tmp_path):
    (tmp_path / "students").mkdir()
    (tmp_path / "students" / "home.py").write_text("HOME_CACHE_SECONDS = 60\n")
    (tmp_path / "requirements.lock").write_text("django==5.2.19\n")
    first = code_digest(tmp_path)
    assert code_digest(tmp_path) == first  # the same on every app server
    (tmp_path / "students" / "home.py").write_text("HOME_CACHE_SECONDS = 30\n")
    second = code_digest(tmp_path)
    (tmp_path / "requirements.lock").write_text("django==5.2.20\n")
    third = code_digest(tmp_path)
    assert len({first, second, third}) == 3
