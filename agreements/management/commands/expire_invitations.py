from django.core.management.base import BaseCommand

from agreements.online.services import invitations_expire


class Command(BaseCommand):
    help = "Mark signing invitations past their deadline as expired (已失效). Run it periodically."

    def handle(self, *args, **options):
        self.stdout.write(f"{invitations_expire()} invitations expired.")
