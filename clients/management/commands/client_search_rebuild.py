"""Write every client's search text again (clients/search.py) where it
differs from the client's name, phone and owner's email: after rows were
loaded or changed by hand, outside the services. Safe to run at any time."""

from django.core.management.base import BaseCommand

from clients.services import client_search_text_refresh


class Command(BaseCommand):
    help = "Write the client list's search text again where it is out of date."

    def handle(self, *args, **options) -> None:
        written = client_search_text_refresh()
        self.stdout.write(f"{written} clients' search text written")
