"""Writes on a user's own notifications."""

from django.utils import timezone

from destreg.accounts.models import User
from destreg.audit.models import Notification


def notifications_mark_read(*, user: User) -> int:
    """Mark every unread notification of ``user`` read; returns how many were.

    One UPDATE, atomic on its own, so there is nothing to lock; the cached unread count is
    forgotten right after it (inside a caller's transaction the count may be re-read from
    the uncommitted state only by that same transaction's request)."""
    marked = Notification.objects.filter(user=user).unread().update(read_at=timezone.now())
    if marked:
        Notification.forget_unread_counts([user.pk])
    return marked
