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

from clients.models import Client, EventType
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


def notify(*, event: str, client: Client, actor: AbstractBaseUser | None) -> list[Delivery]:
    """Queue the notifications of an event about a client; call it inside the
    transaction that changes the client.

    The reseller's handler of the event decides (its nearest ancestor's when it
    has none); a disabled handler, no handler, or an owner without an email
    queue nothing. Returns the queued deliveries (one, to the owner, for now).
    """
    handler = selectors.handler_for_event(reseller=client.reseller, event=event)
    if handler is None or not handler.enabled:
        return []
    owner = selectors.client_owner(client=client)
    if owner is None or not owner.email:
        logger.warning("Client %s has no owner email; %s not sent.", client.pk, event)
        return []
    with transaction.atomic():
        delivery = Delivery.objects.create(
            client=client,
            event=event,
            channel=handler.channel,
            handler=handler,
            template=handler.template,
            language=client.reseller.notification_language,
            recipient=owner.email,
            recipient_user=owner,
            actor=actor if actor is not None and actor.pk else None,
            message_id=_message_id(),
        )
        delivery_enqueue(delivery=delivery)
    return [delivery]


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


def ensure_default_handlers() -> list[EventHandler]:
    """Give the root reseller a "client created" email handler with the
    default template (made by migration 0002) when it has none. Idempotent."""
    root = Reseller.objects.filter(parent=None).first()
    template = NotificationTemplate.objects.filter(key=DEFAULT_TEMPLATE_KEY).first()
    if root is None or template is None:
        return []
    handler, _created = EventHandler.objects.get_or_create(
        reseller=root,
        event=EventType.CLIENT_CREATED,
        channel=Channel.EMAIL,
        defaults={"template": template},
    )
    return [handler]
