"""Recovery for the database task queue (django-tasks-db).

A worker killed in the middle of a task leaves its row RUNNING for ever (the queue has
no heartbeat), and a task that failed stays FAILED. `manage.py recover_tasks` runs these
every few minutes.
"""

from datetime import datetime

from django_tasks.base import TaskResultStatus
from django_tasks_db.models import DBTaskResult

EMAIL_TASK = "destreg.audit.tasks.send_email"
# Tasks that may run again after their worker died: rendering finds its work done, and an
# e-mail going out twice (rarely) beats it never going out. Exports are not here: a long
# export must not run twice at once, and a new one is a click away.
RESTARTABLE = {
    "agreements.tasks.render_agreement",
    "agreements.tasks.render_registration",
    EMAIL_TASK,
}
EMAIL_ATTEMPTS = 3


def requeue_stalled(started_before: datetime) -> int:
    """Put restartable tasks RUNNING since before ``started_before`` back; how many."""
    return DBTaskResult.objects.filter(
        status=TaskResultStatus.RUNNING,
        started_at__lt=started_before,
        task_path__in=RESTARTABLE,
    ).update(status=TaskResultStatus.READY, started_at=None)


def retry_failed_email(finished_before: datetime) -> int:
    """Send again e-mails that failed (mail server down) before ``finished_before``, up to
    three attempts each; how many."""
    failed = DBTaskResult.objects.filter(
        status=TaskResultStatus.FAILED, task_path=EMAIL_TASK, finished_at__lt=finished_before
    ).only("pk", "worker_ids")
    again = [task.pk for task in failed if len(task.worker_ids) < EMAIL_ATTEMPTS]
    return DBTaskResult.objects.filter(pk__in=again).update(
        status=TaskResultStatus.READY,
        started_at=None,
        finished_at=None,
        exception_class_path="",
        traceback="",
    )
