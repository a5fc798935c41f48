"""The webhook sender on the background worker (django-tasks)."""

from django_tasks import task

from agreements.webhooks.sending import attempt


@task()
def deliver_webhook(delivery_id: int) -> str | None:
    """One try of a delivery if due; schedules the next on failure (sending.py)."""
    return attempt(delivery_id)
