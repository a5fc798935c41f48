from datetime import timedelta

from django.core.management.base import BaseCommand
from django.utils import timezone

from agreements.online.services import queue_missing_pdfs
from destreg.lib.tasks import requeue_stalled, retry_failed_email


class Command(BaseCommand):
    help = (
        "Put background work back on track: re-queue PDF and e-mail tasks whose worker died "
        "while running them, send failed e-mails again (three attempts in all), and queue "
        "again the PDFs of signed agreements that still have none. Run it every few minutes."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--minutes",
            type=int,
            default=10,
            help="how long a task may run, fail or a PDF stay missing before it is retried",
        )

    def handle(self, *args, minutes: int, **options):
        cutoff = timezone.now() - timedelta(minutes=minutes)
        tasks, emails = requeue_stalled(cutoff), retry_failed_email(cutoff)
        pdfs = queue_missing_pdfs(cutoff)
        self.stdout.write(
            f"{tasks} stalled tasks re-queued, {emails} failed e-mails retried, "
            f"{pdfs} missing PDFs queued."
        )
