"""E-mail goes out from the task workers, so a slow mail server never holds a request."""

from django.core.mail import send_mail
from django.db import transaction
from django_tasks import task


@task()
def send_email(subject: str, body: str, recipients: list[str]) -> None:
    send_mail(subject=subject, message=body, from_email=None, recipient_list=recipients)


def email_after_commit(subject: str, body: str, recipients: list[str]) -> None:
    """Queue the e-mail once the caller's transaction commits (a rollback sends nothing)."""
    # One line: a name typed with a line break must not end in a header error (or inject one).
    subject, body = " ".join(str(subject).split())[:80], str(body)
    transaction.on_commit(lambda: send_email.enqueue(subject, body, list(recipients)))
