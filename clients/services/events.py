"""Recording a change: one call writes the client's event-log entry and
queues its notification (STYLE.md, "One call records a change")."""

import datetime as dt
from collections.abc import Sequence

from django.db import transaction
from django.utils import timezone

from clients.events import event_wording
from clients.models import Client, ClientEvent, EventType
from notifications.services import notify
from users.models import User

# The events that are announced (through the reseller's handler of the event,
# to the owner unless the service names the recipients); the others, and any
# entry hidden from the client, are only logged.
NOTIFIED_EVENTS = frozenset(
    {
        EventType.CLIENT_CREATED,
        EventType.STATUS_CHANGED,
        EventType.MANAGER_CHANGED,
        EventType.CLIENT_UPDATED,
        EventType.USER_ADDED,
        EventType.USER_LEVEL_CHANGED,
        EventType.USER_REMOVED,
        EventType.OWNERSHIP_TRANSFERRED,
    }
)


def client_event_record(
    *,
    client: Client,
    actor: User | None,
    event_type: EventType,
    data: dict,
    visible_to_client: bool,
    created_at: dt.datetime | None = None,
    recipients: Sequence[User] | None = None,
) -> ClientEvent:
    """Record a change of the client, the one way every service does: its
    event-log entry, worded from ``data`` (clients/events.py, which words it
    again in each reader's language), and for an event of NOTIFIED_EVENTS the
    client may see, its notification (to ``recipients``, by default the
    owner; the message can read the entry's facts). ``actor`` None is the
    System.

    Call it inside the transaction that makes the change, so that the change,
    its entry and its queued notification commit or roll back together."""
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("Record a client's change inside the transaction that makes it.")
    subject, description = event_wording(event_type, data)
    event = ClientEvent.objects.create(
        client=client,
        event_type=event_type,
        subject=subject,
        description=description,
        data=data,
        actor=actor,
        visible_to_client=visible_to_client,
        created_at=created_at or timezone.now(),
    )
    if event_type in NOTIFIED_EVENTS and visible_to_client:
        notify(event=event_type, client=client, actor=actor, recipients=recipients, log_entry=event)
    return event


def _name(user: User | None) -> str | None:
    """How the event log names a person: the full name, else the email."""
    return (user.get_full_name() or user.email) if user is not None else None
