"""Writes about users and managers."""

import datetime as dt
import hashlib

from django.conf import settings
from django.contrib.auth.models import Group
from django.db import connection, transaction
from django.utils import timezone

from users.backends import login_key
from users.models import Manager, PasswordResetEmail, PasswordResetRequest
from users.roles import ROLE_GROUP_PREFIX, ROLE_PERMISSIONS, ensure_roles, role_group_name
from users.tasks import send_password_reset


@transaction.atomic
def manager_role_sync(*, manager: Manager) -> None:
    """Put the manager's user in the group of its role and in no other role
    group; call it when a manager is created or its role changes. Groups that
    are not role groups (given by hand in admin) are left alone."""
    name = role_group_name(manager.role)
    group = Group.objects.filter(name=name).first()
    if group is None and manager.role in ROLE_PERMISSIONS:
        ensure_roles()  # a database flushed after migrate (tests)
        group = Group.objects.get(name=name)
    user = manager.user
    stale = user.groups.filter(name__startswith=ROLE_GROUP_PREFIX)
    if group is not None:
        stale = stale.exclude(pk=group.pk)
    user.groups.remove(*stale)
    if group is not None:
        user.groups.add(group)


@transaction.atomic
def manager_create(**fields) -> Manager:
    """Create a manager and put its user in its role's group."""
    manager = Manager.objects.create(**fields)
    manager_role_sync(manager=manager)
    return manager


# --- "forgot password" --------------------------------------------------------------


def _email_digest(email: str) -> str:
    return hashlib.sha256(login_key(email).encode()).hexdigest()


def _hold_address(address: str) -> None:
    """Requests from one address one after the other until the transaction
    ends (a PostgreSQL advisory lock on the address's digest): requests sent
    at the same moment would otherwise each count the others' rows as not
    there yet and all pass the limit. SQLite runs one writer at a time anyway."""
    if connection.vendor != "postgresql":
        return
    digest = hashlib.sha256(f"password-reset:{address}".encode()).digest()
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pg_advisory_xact_lock(%s)", [int.from_bytes(digest[:8], "big", signed=True)]
        )


def _address_requests(address: str, *, since: dt.datetime) -> int:
    return PasswordResetRequest.objects.filter(address=address, requested_at__gte=since).count()


@transaction.atomic
def password_reset_request(*, email: str, address: str, domain: str, use_https: bool) -> bool:
    """Take a "forgot password" request and queue the reset email when the
    limits allow; returns whether it queued one. The email is never looked up
    here: a known, an unknown and a refused email get the same answer, and a
    known and an unknown one cost the request the same work; the task finds
    out whether there is anyone to send to (``users.password_reset.password_reset_send``).

    Limits, kept in the database (every web worker counts the same rows):
    PASSWORD_RESET_ADDRESS_LIMIT requests from one address (as django-axes
    determines it) in PASSWORD_RESET_ADDRESS_MINUTES, the requests over it not
    counted, so a flood neither queues nor grows the table; and one queued
    task per email, folded as sign-in folds it, per PASSWORD_RESET_MIN_INTERVAL.
    """
    now = timezone.now()
    window_start = now - dt.timedelta(minutes=settings.PASSWORD_RESET_ADDRESS_MINUTES)
    interval_start = now - dt.timedelta(seconds=settings.PASSWORD_RESET_MIN_INTERVAL)
    # Rows older than their limit's period are of no more use: each request
    # prunes them (through the time indexes), so the tables stay small.
    PasswordResetRequest.objects.filter(requested_at__lt=window_start).delete()
    PasswordResetEmail.objects.filter(queued_at__lt=interval_start).delete()

    address = address or "unknown"
    _hold_address(address)
    if _address_requests(address, since=window_start) >= settings.PASSWORD_RESET_ADDRESS_LIMIT:
        return False
    PasswordResetRequest.objects.create(address=address, requested_at=now)
    # The digest is the primary key: of requests racing for one email, one
    # inserts the row and queues; the others wait for it and find the row.
    _row, created = PasswordResetEmail.objects.get_or_create(
        email_digest=_email_digest(email), defaults={"queued_at": now}
    )
    if not created:
        return False

    # A row of this transaction (django-tasks-db): queued only if the request commits.
    send_password_reset.enqueue(email=email, domain=domain, use_https=use_https)
    return True
