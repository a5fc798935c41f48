"""Compute the SHA-256 of proof files stored before their digest was kept."""

from django.core.management.base import BaseCommand
from django.db.models import Q

from agreements.models import Registration
from agreements.registrations.services import PROOF_DIGESTS
from destreg.lib.uploads import file_sha256


class Command(BaseCommand):
    help = (
        "Fill in the SHA-256 of registrations' proof files that have none yet "
        "(the 核查 page groups proofs by it). Safe to run again: rows with a digest are skipped."
    )

    def handle(self, *args, **options):
        filled = missing = 0
        for name, digest_field in PROOF_DIGESTS.items():
            rows = Registration.objects.exclude(Q(**{name: ""}) | Q(**{name: None})).filter(
                **{digest_field: ""}
            )
            for registration in rows.only("pk", name).iterator(chunk_size=500):
                field_file = getattr(registration, name)
                try:
                    digest = file_sha256(field_file)
                except FileNotFoundError:
                    missing += 1
                    continue
                Registration.objects.filter(pk=registration.pk).update(**{digest_field: digest})
                filled += 1
        self.stdout.write(f"{filled} digests filled, {missing} files missing")
