"""Races on PostgreSQL: two scheduler runs at once take one snapshot."""

import threading
from datetime import timedelta

import pytest
from django.db import connection, connections
from django.utils import timezone

from reviews.models import Snapshot, SnapshotRow
from reviews.services import snapshot_take
from students.models import current_graduation_year
from tests import factories as f

pytestmark = [
    pytest.mark.skipif(connection.vendor != "postgresql", reason="needs PostgreSQL row locks"),
    pytest.mark.django_db(transaction=True),
]


def test_two_runs_at_once_take_one_snapshot(world, purge_snapshots):
    for _ in range(5):
        f.make_record(world.major_a1)
    cutoff = timezone.localdate() - timedelta(days=1)
    barrier = threading.Barrier(2)
    results: list[object] = [None, None]

    def run(index: int) -> None:
        barrier.wait()
        try:
            results[index] = snapshot_take(
                school=world.school_a, year=current_graduation_year(), cutoff=cutoff
            )
        except Exception as error:  # reported by the assertion below
            results[index] = error
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    taken = [r for r in results if isinstance(r, Snapshot)]
    assert len(taken) == 1 and results.count(None) == 1, results
    assert Snapshot.objects.count() == 1
    assert SnapshotRow.objects.count() == 5
