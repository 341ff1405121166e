"""manage.py api_prune: delete the API's idempotency keys older than
API_IDEMPOTENCY_KEY_HOURS and stale request counters. Run it daily (cron or
a systemd timer); nothing breaks when it is not, the tables only grow."""

from django.core.management.base import BaseCommand

from api.services import api_prune


class Command(BaseCommand):
    help = "Delete expired idempotency keys and stale request counters of the API."

    def handle(self, *args, **options):
        result = api_prune()
        self.stdout.write(
            f"Deleted {result.idempotency_keys} idempotency keys and {result.counters} counters."
        )
