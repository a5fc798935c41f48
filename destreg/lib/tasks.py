"""Recovery for the database task queue (django-tasks-db).

A worker killed in the middle of a task leaves its row RUNNING for ever: the
queue has no heartbeat. Our tasks are safe to run twice (a PDF is recorded only
after it is written; a second run finds it done), so a task that has been
running far longer than any task takes is put back to READY for the next worker.
"""

from datetime import datetime

from django_tasks.base import TaskResultStatus
from django_tasks_db.models import DBTaskResult


def requeue_stalled(started_before: datetime) -> int:
    """Return RUNNING tasks started before ``started_before`` to the queue; how many."""
    return DBTaskResult.objects.filter(
        status=TaskResultStatus.RUNNING, started_at__lt=started_before
    ).update(status=TaskResultStatus.READY, started_at=None)
