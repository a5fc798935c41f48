"""Tell people what happened: an in-app notification and an e-mail, after commit."""

from collections.abc import Iterable, Mapping
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import translation
from django.utils.translation import gettext_lazy

from destreg.audit.models import Notification, render_message, store_params, translatable
from destreg.audit.tasks import email_after_commit

# The link every notice of a change to a graduate's destination carries (``report_url``).
NOT_MY_WILL = gettext_lazy("This was not my own wish")


def notify(
    users: Iterable,
    message: Any,
    url: str = "",
    params: Mapping[str, Any] | None = None,
    *,
    report_url: str = "",
) -> None:
    """Notify ``users`` (inactive ones and duplicates skipped).

    ``message`` is the untranslated English source (``gettext_lazy`` or ``gettext_noop``)
    with ``%(name)s`` placeholders filled from ``params``: each reader sees it in their own
    language when it is shown. The e-mail is written in the default language (the project
    keeps no language per person). The rows are written in the caller's transaction; the
    e-mails are queued for the task workers only once it commits, so a rolled-back action
    sends nothing. ``report_url`` (a path) is the "这不是我本人的意愿" link of a change to
    the reader's own destination: shown with the notification and added to the e-mail.
    """
    recipients = {user.pk: user for user in users if user is not None and user.is_active}
    message_id = translatable(message)
    stored = store_params(params or {})
    with translation.override(settings.LANGUAGE_CODE):
        text = render_message(message_id, stored)
        report_line = f"\n\n{NOT_MY_WILL}: {settings.SITE_URL}{report_url}"
    Notification.objects.bulk_create(
        Notification(
            user=user,
            message=text[:300],
            message_id=message_id,
            params=stored,
            url=url,
            report_url=report_url,
        )
        for user in recipients.values()
    )
    transaction.on_commit(lambda: Notification.forget_unread_counts(recipients.keys()))
    addresses = [user.email for user in recipients.values() if user.email]
    if addresses:
        link = f"{settings.SITE_URL}{url}" if url else settings.SITE_URL
        body = f"{text}\n\n{link}" + (report_line if report_url else "")
        email_after_commit(text, body, addresses)
