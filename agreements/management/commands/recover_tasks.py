from datetime import timedelta

from django.core.management.base import BaseCommand
from django.utils import timezone

from agreements.services import queue_missing_pdfs
from destreg.lib.tasks import requeue_stalled


class Command(BaseCommand):
    help = (
        "Put background work back on track: re-queue tasks whose worker died while running "
        "them, and queue again the PDFs of signed agreements that still have none. "
        "Run it every few minutes."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--minutes",
            type=int,
            default=10,
            help="how long a task may run, or a PDF stay missing, before it is retried",
        )

    def handle(self, *args, minutes: int, **options):
        cutoff = timezone.now() - timedelta(minutes=minutes)
        tasks, pdfs = requeue_stalled(cutoff), queue_missing_pdfs(cutoff)
        self.stdout.write(f"{tasks} stalled tasks re-queued, {pdfs} missing PDFs queued.")
