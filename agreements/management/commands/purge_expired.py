from django.core.exceptions import PermissionDenied, ValidationError
from django.core.management.base import BaseCommand
from django.utils import timezone

from agreements.retention import RETENTION_YEARS, evidence_purge, expired_evidence


class Command(BaseCommand):
    help = (
        f"List the proof files kept longer than {RETENTION_YEARS} years after the graduate's "
        "graduation (a dry run: nothing is removed); with --execute, delete them from storage "
        "and empty their fields, each audited."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--execute", action="store_true", help="remove the files (default: only list them)"
        )

    def handle(self, *args, **options):
        today = timezone.localdate()
        expired = expired_evidence(today)
        removed = 0
        for entry in expired:
            label = f"{entry.item._meta.label} #{entry.item.pk} (graduated {entry.graduation_date})"
            for name in entry.files:
                self.stdout.write(f"{label}: {name}")
            if options["execute"]:
                try:
                    removed += len(evidence_purge(item=entry.item, by=None, today=today))
                except (PermissionDenied, ValidationError) as error:
                    self.stderr.write(f"{label}: kept: {error}")
        files = sum(len(entry.files) for entry in expired)
        if options["execute"]:
            self.stdout.write(f"Removed {removed} files of {len(expired)} items.")
        else:
            self.stdout.write(
                f"Dry run: {files} files of {len(expired)} items are past retention; "
                "run with --execute to remove them."
            )
