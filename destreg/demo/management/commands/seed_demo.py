from django.core.management.base import BaseCommand

from destreg.demo.data import ACCOUNTS, PASSWORD, seed


class Command(BaseCommand):
    help = "Create (or refresh) the demo schools, registry and accounts. Safe to run again."

    def handle(self, *args, **options):
        seed()
        self.stdout.write(self.style.SUCCESS(f"Demo data ready. Accounts (password {PASSWORD}):"))
        for account in ACCOUNTS:
            self.stdout.write(f"  {account.username:<10} {account.who}")
