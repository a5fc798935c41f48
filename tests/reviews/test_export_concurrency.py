"""Races on PostgreSQL: two export requests of one user at once queue one job."""

import threading

import pytest
from django.core.exceptions import ValidationError
from django.db import connection, connections

from reviews import services
from reviews.models import ExportJob
from reviews.services import export_start

pytestmark = [
    pytest.mark.skipif(connection.vendor != "postgresql", reason="needs PostgreSQL"),
    pytest.mark.django_db(transaction=True),
]


class _NoWorker:
    """Leaves the jobs queued, so the race is between the two requests only."""

    @staticmethod
    def enqueue(job_id: int) -> None:
        pass


def test_two_requests_at_once_queue_one_export(world, ministry_staff, monkeypatch):
    monkeypatch.setattr(services, "run_export", _NoWorker)
    barrier = threading.Barrier(2)
    results: list[object] = [None, None]

    def run(index: int) -> None:
        barrier.wait()
        try:
            results[index] = export_start(user=ministry_staff, fmt="csv")
        except Exception as error:  # reported by the assertion below
            results[index] = error
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    queued = [r for r in results if isinstance(r, ExportJob)]
    refused = [r for r in results if isinstance(r, ValidationError)]
    assert len(queued) == 1 and len(refused) == 1, results
    assert ExportJob.objects.filter(user=ministry_staff).count() == 1
