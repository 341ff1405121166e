"""manage.py api_token_create --email MANAGER_EMAIL --name NAME: a new API
token for scripts and first set-up. The token alone goes to stdout (so that
``TOKEN=$(manage.py api_token_create …)`` works), the manager's reseller ID
to stderr."""

import datetime as dt

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from api.services import api_token_create
from users.models import Manager


class Command(BaseCommand):
    help = "Create an API token for a manager; prints only the token."

    def add_arguments(self, parser):
        parser.add_argument("--email", required=True, help="The manager's email (any case).")
        parser.add_argument("--name", required=True, help="What the token is for.")
        parser.add_argument(
            "--expires-in-days", type=int, default=None, help="Empty: until revoked."
        )

    def handle(self, *args, email: str, name: str, expires_in_days: int | None, **options):
        manager = (
            Manager.objects.select_related("user", "reseller")
            .filter(user__email__iexact=email.strip())
            .first()
        )
        if manager is None:
            raise CommandError(f"No manager has the email {email!r}.")
        if not manager.is_active:
            raise CommandError(f"The manager {email!r} is inactive: their token would not work.")
        if not name.strip():
            raise CommandError("Give the token a name.")
        expires_at = None
        if expires_in_days is not None:
            if expires_in_days < 1:
                raise CommandError("--expires-in-days must be at least 1.")
            expires_at = timezone.now() + dt.timedelta(days=expires_in_days)
        _token, secret = api_token_create(manager=manager, name=name, expires_at=expires_at)
        self.stderr.write(f"reseller_id={manager.reseller_id}")
        self.stdout.write(secret)
