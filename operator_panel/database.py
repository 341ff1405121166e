"""What the database being out of reach looks like to the code above it."""

import time

from django.db import InterfaceError, OperationalError, connection
from psycopg_pool import PoolTimeout

# The database is restarting, failing over, or every pooled connection is
# busy: the panel's pages and the API answer 503 with Retry-After, not 500.
DATABASE_UNAVAILABLE = (OperationalError, InterfaceError, PoolTimeout)
RETRY_AFTER_SECONDS = 5


def wait_for_database(*, seconds: float) -> bool:
    """Wait until this thread's database connection works again (PostgreSQL
    restarted or failed over); False when it did not within ``seconds``.
    For background work only: a request answers 503 instead of waiting."""
    deadline = time.monotonic() + seconds
    while True:
        connection.close()
        try:
            with connection.cursor() as cursor:
                cursor.execute("SELECT 1")
            return True
        except DATABASE_UNAVAILABLE:
            if time.monotonic() >= deadline:
                return False
            time.sleep(0.5)
