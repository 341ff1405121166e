"""A client's status and postpay decision, and what every change after
creation shares: the actor's reach, the client's row locked, the change
stamped."""

import datetime as dt

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from clients import selectors
from clients.events import choice_label
from clients.models import Client, ClientStatus, EventType
from clients.services.checks import POSTPAY_DECISIONS
from clients.services.events import client_event_record
from users.models import Manager, ManagerStatus, User


def _check_actor(*, actor: Manager, client: Client) -> None:
    # Views reach clients through the scoped selectors; this guards other callers.
    in_reach = selectors.reseller_in_reach(manager=actor, reseller=client.reseller)
    if actor.status != ManagerStatus.ACTIVE or not in_reach:
        raise ValidationError(_("You cannot act on this client."), code="not_allowed")


def _lock_client(client: Client) -> Client:
    """The client's row, locked until the transaction ends, so that two changes
    at once are decided one after the other on fresh data."""
    return (
        Client.objects.select_for_update(of=("self",)).select_related("reseller").get(pk=client.pk)
    )


def _apply_status(client: Client, *, status: str, actor: User | None) -> None:
    old_status = client.status
    client.status = status
    client.save(update_fields=["status"])
    client_event_record(
        client=client,
        actor=actor,
        event_type=EventType.STATUS_CHANGED,
        data={
            "old_status": old_status,
            "new_status": status,
            "actor": (actor.get_full_name() or actor.email) if actor is not None else None,
        },
        visible_to_client=True,
    )


def client_set_status(*, actor: Manager, client: Client, status: str) -> Client:
    """Move the client to another status on a manager's decision, with its
    event-log entry and the ``client.status_changed`` notification, in one
    transaction. The move is checked against the row's current status under a
    lock; a move ``selectors.client_status_targets`` does not offer raises
    ValidationError. Returns the updated client (the given instance gets the
    new status too)."""
    _check_actor(actor=actor, client=client)
    with transaction.atomic():
        locked = _lock_client(client)
        if status not in selectors.client_status_targets(client=locked):
            raise ValidationError(
                _("A client cannot go from the status %(old)s to %(new)s."),
                code="transition_not_allowed",
                params={
                    "old": choice_label(ClientStatus, locked.status),
                    "new": choice_label(ClientStatus, status),
                },
            )
        _apply_status(locked, status=status, actor=actor.user)
    client.status = locked.status
    return locked


def client_set_credit_hold(*, client: Client) -> Client:
    """Put an Active client on credit hold as the system (the event's actor is
    empty); billing calls this, and Django admin offers it as an action.
    Any other status raises ValidationError."""
    with transaction.atomic():
        locked = _lock_client(client)
        if locked.status != ClientStatus.ACTIVE:
            raise ValidationError(
                _("Only an active client can be put on credit hold; this one is %(status)s."),
                code="transition_not_allowed",
                params={"status": choice_label(ClientStatus, locked.status)},
            )
        _apply_status(locked, status=ClientStatus.CREDIT_HOLD, actor=None)
    client.status = locked.status
    return locked


def client_decide_postpay(*, actor: Manager, client: Client, decision: str) -> Client:
    """Approve or decline the client's postpay by hand, once and for good.

    Allowed only while the reseller's "Allow client postpay" is Manually and
    the permission is still "Verification not performed" or "Approval
    required" (``selectors.client_postpay_can_decide``); anything else raises
    ValidationError. The event-log entry is hidden from the client: the
    verification is the reseller's own business."""
    _check_actor(actor=actor, client=client)
    if decision not in POSTPAY_DECISIONS:
        raise ValidationError(_("Choose to approve or to decline."), code="invalid_decision")
    with transaction.atomic():
        locked = _lock_client(client)
        if not locked.reseller.postpay_is_manual:
            raise ValidationError(
                _("This reseller's postpay permission is decided automatically."),
                code="postpay_automatic",
            )
        if not selectors.client_postpay_can_decide(client=locked):
            raise ValidationError(
                _("The postpay permission has already been decided: %(permission)s."),
                code="postpay_decided",
                params={"permission": locked.get_postpay_permission_display()},
            )
        old_permission = locked.postpay_permission
        locked.postpay_permission = decision
        locked.postpay_decided_at = timezone.now()
        locked.postpay_decided_by = actor.user
        locked.save(
            update_fields=["postpay_permission", "postpay_decided_at", "postpay_decided_by"]
        )
        client_event_record(
            client=locked,
            actor=actor.user,
            event_type=EventType.POSTPAY_DECIDED,
            data={
                "old_permission": old_permission,
                "new_permission": decision,
                "actor": actor.user.get_full_name() or actor.user.email,
            },
            visible_to_client=False,
            created_at=locked.postpay_decided_at,
        )
    client.postpay_permission = locked.postpay_permission
    client.postpay_decided_at = locked.postpay_decided_at
    client.postpay_decided_by = locked.postpay_decided_by
    return locked


def _mark_changed(client: Client, *, actor: Manager, now: dt.datetime) -> list[str]:
    """Count a change of what the Edit client page shows (its stale-data check
    compares this version); returns the fields to save."""
    client.version += 1
    client.updated_at = now
    client.updated_by = actor.user
    return ["version", "updated_at", "updated_by"]


def _refuse_if_deleted(client: Client) -> None:
    # Deleted is final: the client's details, manager and users stay as they were.
    if client.status == ClientStatus.DELETED:
        raise ValidationError(_("A deleted client cannot be changed."), code="deleted")
