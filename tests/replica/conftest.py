"""A throwaway PostgreSQL primary and streaming replica for the whole test session, made
only when the suite runs on PostgreSQL (tests/replica/pair.py)."""

import os

import pytest

from tests.replica.pair import make_pair, missing, stop_pair


@pytest.fixture(scope="session")
def replica_pair():
    if not os.environ.get("DATABASE_URL", "").startswith(("postgres://", "postgresql://")):
        pytest.skip(
            "read replica: needs PostgreSQL (DATABASE_URL=postgres://…); SQLite has no "
            "streaming replica"
        )
    if reason := missing():
        pytest.skip(f"read replica: {reason}")
    pair = make_pair()
    yield pair
    stop_pair(pair)
