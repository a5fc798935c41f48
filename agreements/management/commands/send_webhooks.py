from django.core.management.base import BaseCommand

from agreements.webhooks.sending import send_due


class Command(BaseCommand):
    help = (
        "Try the webhook deliveries that are due (retries, and tries whose worker died). "
        "Run it every minute."
    )

    def handle(self, *args, **options):
        self.stdout.write(f"{send_due()} webhook deliveries tried.")
