"""Tell people what happened: an in-app notification and an e-mail, after commit."""

from collections.abc import Iterable

from django.conf import settings
from django.db import transaction

from destreg.audit.models import Notification
from destreg.audit.tasks import email_after_commit


def notify(users: Iterable, message: str, url: str = "") -> None:
    """Notify ``users`` (inactive ones and duplicates skipped).

    The rows are written in the caller's transaction; the e-mails are queued for
    the task workers only once it commits, so a rolled-back action sends nothing.
    """
    recipients = {user.pk: user for user in users if user is not None and user.is_active}
    Notification.objects.bulk_create(
        Notification(user=user, message=message[:300], url=url) for user in recipients.values()
    )
    transaction.on_commit(lambda: Notification.forget_unread_counts(recipients.keys()))
    addresses = [user.email for user in recipients.values() if user.email]
    if addresses:
        link = f"{settings.SITE_URL}{url}" if url else settings.SITE_URL
        email_after_commit(message, f"{message}\n\n{link}", addresses)
