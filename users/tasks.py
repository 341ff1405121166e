"""Tasks of the users app, run by ``manage.py db_worker``."""

from django.tasks import task

from users.password_reset import password_reset_send

# Password-reset emails have a queue of their own and a lower priority than
# the client notifications of the default queue: a worker serving both takes
# the notifications first, and a flood of resets can never hold them up.
AUTH_QUEUE = "auth"
AUTH_PRIORITY = -10


@task(queue_name=AUTH_QUEUE, priority=AUTH_PRIORITY)
def send_password_reset(*, email: str, domain: str, use_https: bool) -> int:
    """Send the password-reset link to the panel user with this email, if
    there is one and no link went to them lately (users.password_reset);
    the request page queued this without looking. Returns how many emails
    were sent (0 or 1)."""
    return password_reset_send(email=email, domain=domain, use_https=use_https)
