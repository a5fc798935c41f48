from django.core.management.base import BaseCommand

from destreg.reference.loading import load_codes, load_regions


class Command(BaseCommand):
    help = "Load (or update) the national code tables and administrative regions."

    def handle(self, *args, **options):
        codes = load_codes()
        regions = load_regions()
        self.stdout.write(f"Loaded {codes} codes and {regions} regions.")
