"""Writes on notifications and on the review queue's index outside ``change_state``."""

from django.db import transaction
from django.utils import timezone

from destreg.accounts.models import User
from destreg.audit.models import Notification, ReviewFacetCount, ReviewTask


def notifications_mark_read(*, user: User) -> int:
    """Mark every unread notification of ``user`` read; returns how many were.

    One UPDATE, atomic on its own, so there is nothing to lock; the cached unread count is
    forgotten right after it (inside a caller's transaction the count may be re-read from
    the uncommitted state only by that same transaction's request)."""
    marked = Notification.objects.filter(user=user).unread().update(read_at=timezone.now())
    if marked:
        Notification.forget_unread_counts([user.pk])
    return marked


@transaction.atomic
def review_task_drop(*, task: ReviewTask) -> bool:
    """Remove a queue row whose item no longer exists, and its facet counts with it.
    Returns False when another request removed it first."""
    row = ReviewTask.objects.select_for_update(of=("self",)).filter(pk=task.pk).first()
    if row is None:
        return False
    ReviewFacetCount.add(row, -1)
    row.delete()
    return True
