"""Sending one queued notification: render its template with the client as
it is now, send it with the default mailer and record the attempt.

A failed send is tried again later: ``delivery_attempt`` asks its caller's
``schedule_retry`` to queue the next attempt inside the transaction that
records the failure, so a retry is never lost and never queued twice. The
queueing itself (the task, ``run_after``) is ``notifications.tasks``, which
imports this module; this module imports no queue.
"""

import datetime as dt
import logging
import random
from collections.abc import Callable
from typing import Any, Protocol

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.db import transaction
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode
from django.utils.translation import gettext_lazy as _

from clients.models import Client, ClientAccess, TermsStatus
from notifications import selectors
from notifications.models import AttemptOutcome, Delivery, DeliveryAttempt, DeliveryStatus
from notifications.rendering import RenderedMessage, render_message
from notifications.tokens import owner_invitation_token_generator, terms_acceptance_token
from operator_panel.database import DATABASE_UNAVAILABLE, wait_for_database
from users.models import Manager, Reseller, User

logger = logging.getLogger(__name__)


class DeliveryAttemptFailed(Exception):
    """A send failed; raised after the failure (and the retry) is recorded, so
    the task's own result shows the failure too."""


class RetryScheduler(Protocol):
    """Queues the next attempt of a delivery at ``run_after``; called inside
    the transaction that records the failed attempt."""

    def __call__(self, *, delivery: Delivery, run_after: dt.datetime) -> None: ...


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
        "welcome:password_setup",
        kwargs={
            "uidb64": urlsafe_base64_encode(force_bytes(user.pk)),
            "token": owner_invitation_token_generator.make_token(user),
        },
    )
    return _panel_url(reseller) + path


def terms_acceptance_url(*, client: Client, owner: User) -> str:
    """An absolute link to the page where the owner accepts the client's
    terms; it works until they are accepted, for OWNER_INVITATION_TIMEOUT."""
    path = reverse(
        "welcome:terms_accept",
        kwargs={"token": terms_acceptance_token(client_id=client.pk, user_id=owner.pk)},
    )
    return _panel_url(client.reseller) + path


def _manager(manager_id: int | None) -> dict[str, str]:
    manager = Manager.objects.select_related("user").filter(pk=manager_id).first()
    return {**_person(manager.user if manager else None), "phone": manager.phone if manager else ""}


def _user(user_id: int | None) -> dict[str, str]:
    return _person(User.objects.filter(pk=user_id).first() if user_id else None)


def message_context(*, delivery: Delivery) -> dict[str, Any]:
    """The documented template context (see rendering.SAMPLE_CONTEXT), built
    from the client as it is now; plain values only, no model objects."""
    client = (
        Client.objects.select_related("reseller", "client_type", "service_rule")
        .filter(pk=delivery.client_id)
        .get()
    )
    owner = selectors.client_owner(client=client)
    recipient = delivery.recipient_user
    is_owner = recipient is not None and owner is not None and recipient.pk == owner.pk
    access = (
        ClientAccess.objects.filter(client=client, user=recipient).first() if recipient else None
    )
    facts = delivery.client_event.data if delivery.client_event_id else {}
    facts = facts if isinstance(facts, dict) else {}
    address = ", ".join(part for part in (client.address_line1, client.address_line2) if part)
    # A password-setup link only for a recipient who has no password yet (a
    # new user): to anyone else it would be a working way to replace their
    # password. The owner's own link only in the owner's message.
    can_set_password = (
        recipient is not None and recipient.is_active and not recipient.has_usable_password()
    )
    password_setup_url = (
        owner_password_setup_url(user=recipient, reseller=client.reseller)
        if can_set_password
        else ""
    )
    terms_pending = client.terms_status == TermsStatus.PENDING
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
        "recipient": _person(recipient),
        "recipient_is_owner": is_owner,
        "access_level": str(access.get_level_display()) if access else "",
        "manager": _manager(client.manager_id),
        "previous_manager": _manager(facts.get("old_manager_id")),
        "previous_owner": _user(facts.get("old_owner_id")),
        "reseller": {"name": client.reseller.name, "panel_url": _panel_url(client.reseller)},
        "owner_password_setup_url": password_setup_url if is_owner else "",
        "recipient_password_setup_url": password_setup_url,
        "owner_password_setup_valid_days": max(settings.OWNER_INVITATION_TIMEOUT // 86400, 1),
        "terms": {
            "pending": terms_pending,
            "url": client.reseller.terms_url if terms_pending else "",
            # With a password to set, the password-setup page asks for the terms.
            "acceptance_url": (
                terms_acceptance_url(client=client, owner=recipient)
                if terms_pending and is_owner and not can_set_password
                else ""
            ),
        },
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
    *,
    attempt: DeliveryAttempt,
    subject: str,
    error: BaseException | None,
    schedule_retry: RetryScheduler | None,
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
            if (
                schedule_retry is not None
                and delivery.attempts < settings.NOTIFICATION_MAX_ATTEMPTS
            ):
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
        if schedule_retry is not None and delivery.status == DeliveryStatus.RETRYING:
            schedule_retry(delivery=delivery, run_after=delivery.next_attempt_at)
    return delivery


# How long background work that lost the database waits for it before giving
# up (then the worker keeps its task RUNNING and lease recovery hands it out
# again).
DATABASE_WAIT_SECONDS = 30


def delivery_attempt(
    *, delivery_id: int, worker_id: str = "", schedule_retry: RetryScheduler
) -> str:
    """Make one attempt to send a delivery and record it; returns the
    delivery's status. A delivery already sent or given up is left alone.

    A template that cannot be rendered fails the delivery at once (retrying
    would not help); a failed send is retried later through
    ``schedule_retry``, and then ``DeliveryAttemptFailed`` is raised so the
    task shows the failure. The database going away is neither: its error
    goes up to the task, which runs the attempt again once it is back.
    """
    attempt = _attempt_start(delivery_id=delivery_id, worker_id=worker_id)
    if attempt is None:
        delivery = Delivery.objects.filter(pk=delivery_id).first()
        return delivery.status if delivery else "missing"
    delivery = attempt.delivery
    try:
        rendered = _render(delivery=delivery)
    except DATABASE_UNAVAILABLE:
        raise
    except Exception as error:
        logger.exception("Delivery %s cannot be rendered.", delivery_id)
        return _attempt_finish(attempt=attempt, subject="", error=error, schedule_retry=None).status
    try:
        _email(delivery=delivery, rendered=rendered).send()
    except Exception as error:
        delivery = _attempt_finish(
            attempt=attempt, subject=rendered.subject, error=error, schedule_retry=schedule_retry
        )
        raise DeliveryAttemptFailed(
            f"Delivery {delivery_id} attempt {attempt.number} failed; now {delivery.status}."
        ) from error
    try:
        finished = _attempt_finish(
            attempt=attempt, subject=rendered.subject, error=None, schedule_retry=None
        )
    except DATABASE_UNAVAILABLE:
        # The message has left: record it once the database is back, rather
        # than let the task send it a second time.
        logger.warning("Delivery %s was sent before the database went away.", delivery_id)
        if not wait_for_database(seconds=DATABASE_WAIT_SECONDS):
            raise
        finished = _attempt_finish(
            attempt=attempt, subject=rendered.subject, error=None, schedule_retry=None
        )
    return finished.status
