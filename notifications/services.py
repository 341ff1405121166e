"""Writes of the notifications app: queueing a notification, one delivery
attempt with its retry, recovery of tasks whose worker died, and the owner's
password setup.

How delivery works:

1. ``notify`` runs inside the caller's transaction (``client_create``'s): it
   writes a ``Delivery`` row and enqueues the ``deliver_notification`` task.
   The django-tasks-db backend stores the task as a row of the same database,
   so both commit or roll back with the client. Only ids go into the task.
2. ``manage.py db_worker`` runs the task, which calls ``delivery_attempt``:
   it renders the template with current data, sends with the default mailer
   and records the attempt. A failed send schedules the next attempt as a new
   task with ``run_after`` (exponential backoff with jitter), up to
   ``NOTIFICATION_MAX_ATTEMPTS`` attempts.
3. The worker of django-tasks-db never looks again at a task whose process
   died (it stays RUNNING). Our ``db_worker`` (notifications/management)
   calls ``tasks_recover_expired`` at start and every
   ``TASK_LEASE_CHECK_INTERVAL`` seconds: a task RUNNING for longer than
   ``TASK_LEASE_SECONDS`` is made READY again, a bounded number of times.
"""

import datetime as dt
import logging
import random
from collections.abc import Callable
from email.utils import make_msgid
from typing import Any

from django.conf import settings
from django.contrib.auth.base_user import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.core.mail import EmailMultiAlternatives
from django.db import transaction
from django.tasks import TaskResultStatus
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode
from django.utils.translation import gettext_lazy as _
from django_tasks_db.backend import DatabaseBackend
from django_tasks_db.models import DBTaskResult
from django_tasks_db.utils import exclusive_transaction

from clients.models import Client, EventType
from notifications import selectors
from notifications.models import (
    AttemptOutcome,
    Channel,
    Delivery,
    DeliveryAttempt,
    DeliveryStatus,
    EventHandler,
    InvitationUse,
    NotificationTemplate,
)
from notifications.rendering import RenderedMessage, render_message
from notifications.tokens import TokenState, owner_invitation_token_generator
from users.models import Reseller, User

logger = logging.getLogger(__name__)


class DeliveryAttemptFailed(Exception):
    """A send failed; raised after the failure (and the retry) is recorded, so
    the task's own result shows the failure too."""


class TaskLeaseExpired(Exception):
    """Recorded on a task given up after its worker died too many times."""


# --- queueing ---------------------------------------------------------------------


def _message_id() -> str:
    # The domain of our From address: the receiver sees where the ID comes from.
    domain = settings.DEFAULT_FROM_EMAIL.rpartition("@")[2].strip(" >") or "localhost"
    return make_msgid(idstring="notification", domain=domain)


def _enqueue_delivery(*, delivery: Delivery, run_after: dt.datetime | None = None) -> None:
    from notifications.tasks import deliver_notification

    task = deliver_notification.using(run_after=run_after) if run_after else deliver_notification
    if isinstance(task.get_backend(), DatabaseBackend):
        # The task row joins the current transaction: it commits or rolls back with it.
        result = task.enqueue(delivery_id=delivery.pk)
        delivery.task_id = str(result.id)
        delivery.save(update_fields=["task_id", "updated_at"])
    else:
        # Another backend (in memory, immediate) must not see an uncommitted delivery.
        transaction.on_commit(lambda: task.enqueue(delivery_id=delivery.pk))


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
        _enqueue_delivery(delivery=delivery)
    return [delivery]


# --- sending ----------------------------------------------------------------------


def retry_delay(
    *,
    failed_attempts: int,
    base: float,
    cap: float,
    rand: Callable[[float, float], float] = random.uniform,
) -> float:
    """Seconds before the next attempt: the exponential step base * 2**(n-1),
    capped, with "equal jitter" (between half the step and the step), so that
    many messages failing together do not retry together."""
    step = min(cap, base * 2 ** max(failed_attempts - 1, 0))
    return step / 2 + rand(0, step / 2)


def _panel_url(reseller: Reseller) -> str:
    return (reseller.panel_url or settings.PANEL_URL).rstrip("/")


def _person(user: User | None) -> dict[str, str]:
    if user is None:
        return dict.fromkeys(("first_name", "middle_name", "last_name", "full_name", "email"), "")
    return {
        "first_name": user.first_name,
        "middle_name": user.middle_name,
        "last_name": user.last_name,
        "full_name": user.get_full_name(),
        "email": user.email,
    }


def owner_password_setup_url(*, user: User, reseller: Reseller) -> str:
    """An absolute one-use link to the password-setup page for the user."""
    path = reverse(
        "notifications:password_setup",
        kwargs={
            "uidb64": urlsafe_base64_encode(force_bytes(user.pk)),
            "token": owner_invitation_token_generator.make_token(user),
        },
    )
    return _panel_url(reseller) + path


def message_context(*, delivery: Delivery) -> dict[str, Any]:
    """The documented template context (see rendering.SAMPLE_CONTEXT), built
    from the client as it is now; plain values only, no model objects."""
    client = (
        Client.objects.select_related("reseller", "client_type", "service_rule")
        .filter(pk=delivery.client_id)
        .get()
    )
    owner = delivery.recipient_user
    address = ", ".join(part for part in (client.address_line1, client.address_line2) if part)
    # The link only for an owner who has no password yet (a new user): to
    # anyone else it would be a working way to replace their password.
    can_set_password = owner is not None and owner.is_active and not owner.has_usable_password()
    return {
        "event": delivery.event,
        "client": {
            "id": client.pk,
            "name": client.name,
            "company_name": client.company_name,
            "type_key": client.client_type.key,
            "type_name": client.client_type.name,
            "rule_key": client.service_rule.key,
            "rule_name": client.service_rule.name,
            "status": client.status,
            "status_display": str(client.get_status_display()),
            "country": client.country.code,
            "country_name": str(client.country.name),
            "region": client.region,
            "city": client.city,
            "postal_code": client.postal_code,
            "address": address,
            "phone": client.phone,
            "email": client.email,
            "created_at": timezone.localtime(client.created_at).isoformat(timespec="minutes"),
            "contract_person": {
                "first_name": client.contract_first_name,
                "middle_name": client.contract_middle_name,
                "last_name": client.contract_last_name,
                "full_name": " ".join(
                    part
                    for part in (
                        client.contract_last_name,
                        client.contract_first_name,
                        client.contract_middle_name,
                    )
                    if part
                ),
                "email": client.contract_email,
            },
        },
        "owner": _person(owner),
        "reseller": {"name": client.reseller.name, "panel_url": _panel_url(client.reseller)},
        "owner_password_setup_url": (
            owner_password_setup_url(user=owner, reseller=client.reseller)
            if can_set_password
            else ""
        ),
        "owner_password_setup_valid_days": max(settings.OWNER_INVITATION_TIMEOUT // 86400, 1),
    }


def _render(*, delivery: Delivery) -> RenderedMessage:
    if delivery.template_id is None:
        raise ValueError("The delivery's template was deleted.")
    content = selectors.template_content_for_language(
        template_id=delivery.template_id, language=delivery.language
    )
    if content is None:
        raise ValueError(f"Template {delivery.template_id} has no text in any language.")
    with translation.override(delivery.language):
        return render_message(
            subject=content.subject,
            body_text=content.body_text,
            body_html=content.body_html,
            context=message_context(delivery=delivery),
        )


def _email(*, delivery: Delivery, rendered: RenderedMessage) -> EmailMultiAlternatives:
    message = EmailMultiAlternatives(
        subject=rendered.subject,
        body=rendered.body_text,
        to=[delivery.recipient],
        # The same Message-ID on every attempt: a resend after a crash is recognisable.
        headers={"Message-ID": delivery.message_id},
    )
    if rendered.body_html:
        message.attach_alternative(rendered.body_html, "text/html")
    return message


def _attempt_start(*, delivery_id: int, worker_id: str) -> DeliveryAttempt | None:
    with transaction.atomic():
        delivery = Delivery.objects.select_for_update().filter(pk=delivery_id).first()
        if delivery is None or delivery.status in {DeliveryStatus.SENT, DeliveryStatus.FAILED}:
            # Gone with its client, or finished: a second run of the task sends nothing.
            return None
        now = timezone.now()
        # An attempt still "started" lost its worker mid-send; the message may
        # have left, and the resend carries the same Message-ID.
        delivery.attempt_log.filter(outcome=AttemptOutcome.STARTED).update(
            outcome=AttemptOutcome.INTERRUPTED,
            finished_at=now,
            error=str(_("The worker stopped during this attempt.")),
        )
        delivery.attempts += 1
        delivery.status = DeliveryStatus.SENDING
        delivery.next_attempt_at = None
        delivery.save(update_fields=["attempts", "status", "next_attempt_at", "updated_at"])
        return DeliveryAttempt.objects.create(
            delivery=delivery, number=delivery.attempts, started_at=now, worker_id=worker_id
        )


def _attempt_finish(
    *, attempt: DeliveryAttempt, subject: str, error: BaseException | None, retry: bool
) -> Delivery:
    with transaction.atomic():
        delivery = Delivery.objects.select_for_update().get(pk=attempt.delivery_id)
        now = timezone.now()
        attempt.finished_at = now
        if subject:
            delivery.subject = subject
        if error is None:
            attempt.outcome = AttemptOutcome.SENT
            delivery.status = DeliveryStatus.SENT
            delivery.sent_at = now
            delivery.last_error = ""
        else:
            attempt.outcome = AttemptOutcome.FAILED
            attempt.error = delivery.last_error = f"{type(error).__name__}: {error}"[:2000]
            if retry and delivery.attempts < settings.NOTIFICATION_MAX_ATTEMPTS:
                delivery.status = DeliveryStatus.RETRYING
                delivery.next_attempt_at = now + dt.timedelta(
                    seconds=retry_delay(
                        failed_attempts=delivery.attempts,
                        base=settings.NOTIFICATION_RETRY_BASE_DELAY,
                        cap=settings.NOTIFICATION_RETRY_MAX_DELAY,
                    )
                )
            else:
                delivery.status = DeliveryStatus.FAILED
        attempt.save(update_fields=["finished_at", "outcome", "error"])
        delivery.save()
        if delivery.status == DeliveryStatus.RETRYING:
            _enqueue_delivery(delivery=delivery, run_after=delivery.next_attempt_at)
    return delivery


def delivery_attempt(*, delivery_id: int, worker_id: str = "") -> str:
    """Make one attempt to send a delivery and record it; returns the
    delivery's status. A delivery already sent or given up is left alone.

    A template that cannot be rendered fails the delivery at once (retrying
    would not help); a failed send is retried later through a new task, and
    then ``DeliveryAttemptFailed`` is raised so the task shows the failure.
    """
    attempt = _attempt_start(delivery_id=delivery_id, worker_id=worker_id)
    if attempt is None:
        delivery = Delivery.objects.filter(pk=delivery_id).first()
        return delivery.status if delivery else "missing"
    delivery = attempt.delivery
    try:
        rendered = _render(delivery=delivery)
    except Exception as error:
        logger.exception("Delivery %s cannot be rendered.", delivery_id)
        return _attempt_finish(attempt=attempt, subject="", error=error, retry=False).status
    try:
        _email(delivery=delivery, rendered=rendered).send()
    except Exception as error:
        delivery = _attempt_finish(
            attempt=attempt, subject=rendered.subject, error=error, retry=True
        )
        raise DeliveryAttemptFailed(
            f"Delivery {delivery_id} attempt {attempt.number} failed; now {delivery.status}."
        ) from error
    return _attempt_finish(
        attempt=attempt, subject=rendered.subject, error=None, retry=False
    ).status


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
