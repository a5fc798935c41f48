from pathlib import Path

from django.core.management.base import BaseCommand

from agreements.signing import write_self_signed_pair


class Command(BaseCommand):
    help = "Write a self-signed PDF signing key and certificate (for staging or checks)."

    def add_arguments(self, parser):
        parser.add_argument("folder", type=Path)

    def handle(self, *args, folder, **options):
        key, cert = write_self_signed_pair(folder / "key.pem", folder / "cert.pem")
        self.stdout.write(f"{key}\n{cert}")
