"""What the database being out of reach looks like to the code above it."""

from django.db import InterfaceError, OperationalError
from psycopg_pool import PoolTimeout

# The database is restarting, failing over, or every pooled connection is
# busy: the panel's pages and the API answer 503 with Retry-After, not 500.
DATABASE_UNAVAILABLE = (OperationalError, InterfaceError, PoolTimeout)
RETRY_AFTER_SECONDS = 5
