"""The database out of reach, for real: a refused connection (a closed port
on PostgreSQL, an SQLite file that cannot be opened), not a mock."""

from collections.abc import Iterator
from contextlib import contextmanager

from django.db import connections

from tests.notifications.test_smtp_worker import free_port


@contextmanager
def database_out_of_reach(django_db_blocker) -> Iterator[None]:
    """Inside the block every new connection to the default database fails."""
    with django_db_blocker.unblock():
        connection = connections["default"]
        saved = dict(connection.settings_dict)
        connection.close()
        if connection.vendor == "postgresql":
            connection.settings_dict.update(HOST="127.0.0.1", PORT=str(free_port()))
        else:
            connection.settings_dict["NAME"] = "/nonexistent-dir/db.sqlite3"
        try:
            yield
        finally:
            connection.close()
            connection.settings_dict.clear()
            connection.settings_dict.update(saved)
