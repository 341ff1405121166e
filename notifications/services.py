"""Writes of the notifications app: queueing a notification, recovery of
tasks whose worker died, the owner's password setup and the default handlers.

How a notification travels:

1. ``notify`` runs inside the caller's transaction (the one that changes the
   client): it writes a ``Delivery`` row and queues the
   ``deliver_notification`` task (``notifications.tasks``). The
   django-tasks-db backend stores the task as a row of the same database, so
   both commit or roll back with the client. Only ids go into the task.
2. ``manage.py db_worker`` runs the task, which calls
   ``notifications.delivery.delivery_attempt``: it renders the template with
   current data, sends with the default mailer and records the attempt. A
   failed send queues the next attempt as a new task with ``run_after``
   (exponential backoff with jitter), up to ``NOTIFICATION_MAX_ATTEMPTS``.
3. The worker of django-tasks-db never looks again at a task whose process
   died (it stays RUNNING). Our ``db_worker`` (notifications/management)
   calls ``tasks_recover_expired`` at start and every
   ``TASK_LEASE_CHECK_INTERVAL`` seconds: a task RUNNING for longer than
   ``TASK_LEASE_SECONDS`` is made READY again, a bounded number of times.

Imports run one way: services → tasks → delivery.
"""

import datetime as dt
import logging
from collections.abc import Sequence
from email.utils import make_msgid

from django.conf import settings
from django.contrib.auth.base_user import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.db import transaction
from django.tasks import TaskResultStatus
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django_tasks_db.models import DBTaskResult
from django_tasks_db.utils import exclusive_transaction

from clients.models import Client, ClientEvent, EventType
from notifications import selectors
from notifications.models import (
    Channel,
    Delivery,
    EventHandler,
    InvitationUse,
    NotificationTemplate,
)
from notifications.tasks import delivery_enqueue
from notifications.tokens import TokenState, owner_invitation_token_generator
from users.models import Reseller, User

logger = logging.getLogger(__name__)


class TaskLeaseExpired(Exception):
    """Recorded on a task given up after its worker died too many times."""


# --- queueing ---------------------------------------------------------------------


def _message_id() -> str:
    # The domain of our From address: the receiver sees where the ID comes from.
    domain = settings.DEFAULT_FROM_EMAIL.rpartition("@")[2].strip(" >") or "localhost"
    return make_msgid(idstring="notification", domain=domain)


def notify(
    *,
    event: str,
    client: Client,
    actor: AbstractBaseUser | None,
    recipients: Sequence[User] | None = None,
    log_entry: ClientEvent | None = None,
) -> list[Delivery]:
    """Queue the notifications of an event about a client; call it inside the
    transaction that changes the client.

    The reseller's handler of the event decides (its nearest ancestor's when it
    has none); a disabled handler or no handler queues nothing. One message
    goes to each recipient with an email (by default the client's owner);
    ``log_entry`` is the event-log entry of the change, whose facts the
    template may show. Returns the queued deliveries.
    """
    handler = selectors.handler_for_event(reseller=client.reseller, event=event)
    if handler is None or not handler.enabled:
        return []
    if recipients is None:
        owner = selectors.client_owner(client=client)
        recipients = [owner] if owner is not None else []
    people = [user for user in dict.fromkeys(recipients) if user.email]
    if not people:
        logger.warning("Client %s: nobody with an email to tell; %s not sent.", client.pk, event)
        return []
    deliveries = []
    with transaction.atomic():
        for user in people:
            delivery = Delivery.objects.create(
                client=client,
                event=event,
                client_event=log_entry,
                channel=handler.channel,
                handler=handler,
                template=handler.template,
                language=client.reseller.notification_language,
                recipient=user.email,
                recipient_user=user,
                actor=actor if actor is not None and actor.pk else None,
                message_id=_message_id(),
            )
            delivery_enqueue(delivery=delivery)
            deliveries.append(delivery)
    return deliveries


# --- lease recovery ---------------------------------------------------------------


def tasks_recover_expired(
    *,
    backend_name: str = "default",
    lease_seconds: float | None = None,
    max_recoveries: int | None = None,
) -> int:
    """Put back to READY the tasks RUNNING longer than the lease: their worker
    died (killed, machine lost) and django-tasks-db would leave them RUNNING
    for ever. A task that has already been claimed more than ``max_recoveries``
    + 1 times is marked FAILED instead, so a task that kills its worker cannot
    loop. Returns how many tasks were put back or given up."""
    lease = settings.TASK_LEASE_SECONDS if lease_seconds is None else lease_seconds
    limit = settings.TASK_MAX_RECOVERIES if max_recoveries is None else max_recoveries
    now = timezone.now()
    changed = 0
    with exclusive_transaction(DBTaskResult.objects.db):
        stale = DBTaskResult.objects.select_for_update(skip_locked=True).filter(
            backend_name=backend_name,
            status=TaskResultStatus.RUNNING,
            started_at__lt=now - dt.timedelta(seconds=lease),
        )
        for task_result in stale:
            if len(task_result.worker_ids) > limit:
                logger.error("Task %s lost its worker too often; giving up.", task_result.id)
                task_result.status = TaskResultStatus.FAILED
                task_result.finished_at = now
                task_result.exception_class_path = (
                    f"{TaskLeaseExpired.__module__}.{TaskLeaseExpired.__qualname__}"
                )
                task_result.traceback = (
                    f"TaskLeaseExpired: RUNNING for more than {lease} s, "
                    f"{len(task_result.worker_ids)} times.\n"
                )
                task_result.save(
                    update_fields=["status", "finished_at", "exception_class_path", "traceback"]
                )
            else:
                logger.warning("Task %s lost its worker; putting it back.", task_result.id)
                task_result.status = TaskResultStatus.READY
                task_result.save(update_fields=["status"])
            changed += 1
    return changed


# --- the owner's password ---------------------------------------------------------


def owner_password_set(*, user: User, token: str, password: str) -> User:
    """Set the owner's password through the invitation link, once: the token
    is checked again on the locked user row, so two submits of the same link
    cannot both succeed; the use is recorded so the link then says "used"."""
    with transaction.atomic():
        locked = User.objects.select_for_update().get(pk=user.pk)
        if owner_invitation_token_generator.token_state(user=locked, token=token) is not (
            TokenState.VALID
        ):
            raise ValidationError(_("This link is no longer valid."), code="invalid_link")
        locked.set_password(password)
        locked.save(update_fields=["password"])
        InvitationUse.objects.create(user=locked, token_digest=selectors.token_digest(token))
    return locked


# --- defaults ---------------------------------------------------------------------

DEFAULT_TEMPLATE_KEY = "client_created"
# Each announced event and its default template (migrations 0002 and 0004).
DEFAULT_TEMPLATES = {
    EventType.CLIENT_CREATED: DEFAULT_TEMPLATE_KEY,
    EventType.MANAGER_CHANGED: "client_manager_changed",
    EventType.USER_ADDED: "client_user_added",
    EventType.OWNERSHIP_TRANSFERRED: "client_ownership_transferred",
}


def ensure_default_handlers() -> list[EventHandler]:
    """Give the root reseller an email handler with the default template for
    each event of DEFAULT_TEMPLATES it has none for (the templates are made
    by migrations 0002 and 0004). Idempotent; an existing handler, enabled
    or not, is left as it is."""
    root = Reseller.objects.filter(parent=None).first()
    if root is None:
        return []
    templates = {
        template.key: template
        for template in NotificationTemplate.objects.filter(key__in=DEFAULT_TEMPLATES.values())
    }
    handlers = []
    for event, key in DEFAULT_TEMPLATES.items():
        if key not in templates:
            continue
        handler, _created = EventHandler.objects.get_or_create(
            reseller=root,
            event=event,
            channel=Channel.EMAIL,
            defaults={"template": templates[key]},
        )
        handlers.append(handler)
    return handlers
