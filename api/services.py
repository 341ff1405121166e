"""Writes of the reseller API: tokens, request counters and idempotency keys.

Creating a client is not here: the API calls ``clients.services.client_create``
like the Add client page does."""

import datetime as dt
import hashlib
import math
import secrets
import time
import uuid
from dataclasses import dataclass

from django.conf import settings
from django.db import IntegrityError, OperationalError, connection, transaction
from django.utils import timezone

from api.models import TOKEN_HINT_LENGTH, TOKEN_PREFIX, ApiToken, IdempotencyKey, RateCounter
from users.models import Manager, ManagerStatus, User

# last_used_at is written at most this often per token.
LAST_USED_PRECISION = dt.timedelta(minutes=1)


def token_digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def api_token_create(
    *,
    manager: Manager,
    name: str,
    expires_at: dt.datetime | None = None,
    created_by: User | None = None,
) -> tuple[ApiToken, str]:
    """A new token for the manager; returns the row and the token itself,
    which is not kept anywhere and cannot be shown again."""
    secret = TOKEN_PREFIX + secrets.token_urlsafe(32)
    token = ApiToken(
        manager=manager,
        name=name.strip()[: ApiToken._meta.get_field("name").max_length],
        digest=token_digest(secret),
        hint=secret[:TOKEN_HINT_LENGTH],
        expires_at=expires_at,
        created_by=created_by,
    )
    token.full_clean(exclude=["digest", "hint"])
    token.save(force_insert=True)
    return token, secret


def api_token_revoke(*, token: ApiToken) -> ApiToken:
    """Revoke the token at once and for good (revoking twice keeps the first time)."""
    ApiToken.objects.filter(pk=token.pk, revoked_at__isnull=True).update(revoked_at=timezone.now())
    token.refresh_from_db(fields=["revoked_at"])
    return token


def api_token_use(*, secret: str) -> ApiToken | None:
    """The token a request presents, when it may still be used: not revoked,
    not expired, its manager Active and their user active. Its last use is
    written at most once a minute, so a busy integration does not write a row
    on every request."""
    if not secret.startswith(TOKEN_PREFIX) or len(secret) > 200:
        return None
    token = (
        ApiToken.objects.select_related("manager__user", "manager__reseller")
        .filter(digest=token_digest(secret))
        .first()
    )
    now = timezone.now()
    if token is None or not token.is_usable(now=now):
        return None
    manager = token.manager
    if manager.status != ManagerStatus.ACTIVE or not manager.user.is_active:
        return None
    if token.last_used_at is None or token.last_used_at < now - LAST_USED_PRECISION:
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
        token.last_used_at = now
    return token


@dataclass(frozen=True)
class RateCount:
    count: int
    retry_after: int  # seconds until the window ends


_COUNT_SQL = """
INSERT INTO {table} ({key}, {window_start}, {count}) VALUES (%s, %s, 1)
ON CONFLICT ({key}) DO UPDATE SET
  {count} = CASE WHEN {table}.{window_start} = excluded.{window_start}
                 THEN {table}.{count} + 1 ELSE 1 END,
  {window_start} = excluded.{window_start}
RETURNING {count}
"""


def rate_count(*, key: str, window: int) -> RateCount:
    """Count one request under ``key`` in the current fixed window of
    ``window`` seconds: one upsert, atomic in PostgreSQL and SQLite alike, so
    every web process shares the count."""
    now = time.time()
    start = int(now // window * window)
    quote = connection.ops.quote_name
    sql = _COUNT_SQL.format(
        table=quote(RateCounter._meta.db_table),
        key=quote("key"),
        window_start=quote("window_start"),
        count=quote("count"),
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [key[:200], start])
        (count,) = cursor.fetchone()
    return RateCount(count=count, retry_after=max(1, math.ceil(start + window - now)))


class IdempotencyConflict(Exception):
    """The key's first request is still running (409)."""


class IdempotencyMismatch(Exception):
    """The key was used with another request (422)."""


@dataclass(frozen=True)
class IdempotencyBegin:
    """Either a stored answer to replay, or the key row to run the request under."""

    row: IdempotencyKey
    replay: bool


# On a database without row locks that fail at once (SQLite), a request that
# began this long ago and never finished is taken to have died with its
# process: a retry takes its key over (its creation token still makes one
# client only). PostgreSQL knows for sure: see _key_holder_gone.
IDEMPOTENCY_STALE_AFTER = dt.timedelta(minutes=5)


def idempotency_begin(*, manager: Manager, key: str, fingerprint: str) -> IdempotencyBegin:
    """Claim ``key`` for a request, or find what it already answered.

    The first request inserts the row (committed at once, so a racing second
    request finds it) and then holds it locked while it creates
    (``idempotency_hold``); a second one with the same fingerprint replays the
    stored answer, gets IdempotencyConflict while the first still runs, or
    takes the key over when the first died without an answer (its process
    killed, or the database restarted under it: its transaction rolled back,
    so nothing of it was committed); another fingerprint raises
    IdempotencyMismatch."""
    for _attempt in range(3):
        try:
            with transaction.atomic():
                row = IdempotencyKey.objects.create(
                    manager=manager, key=key, fingerprint=fingerprint, creation_token=uuid.uuid4()
                )
            return IdempotencyBegin(row=row, replay=False)
        except IntegrityError:
            pass
        # The first request may have released the key (a validation error)
        # between our insert and this read: then try the insert again.
        row = IdempotencyKey.objects.filter(manager=manager, key=key).first()
        if row is not None:
            break
    else:
        raise IdempotencyConflict
    if row.fingerprint != fingerprint:
        raise IdempotencyMismatch
    if row.completed_at is not None:
        return IdempotencyBegin(row=row, replay=True)
    if _key_holder_gone(row):
        return IdempotencyBegin(row=row, replay=False)
    raise IdempotencyConflict


def _key_holder_gone(row: IdempotencyKey) -> bool:
    """Whether the request that claimed ``row`` ended without an answer.

    A running request holds the row locked in its transaction: if the lock
    can be taken at once and the row is still unanswered, nobody holds it."""
    if not connection.features.has_select_for_update_nowait:
        taken = IdempotencyKey.objects.filter(
            pk=row.pk,
            completed_at__isnull=True,
            created_at=row.created_at,
            created_at__lt=timezone.now() - IDEMPOTENCY_STALE_AFTER,
        ).update(created_at=timezone.now())
        return bool(taken)
    try:
        with transaction.atomic():
            return (
                IdempotencyKey.objects.select_for_update(nowait=True)
                .filter(pk=row.pk, completed_at__isnull=True)
                .exists()
            )
    except OperationalError:  # LockNotAvailable: the first request still runs
        return False


def idempotency_hold(*, row: IdempotencyKey) -> None:
    """Lock the claimed key until the surrounding transaction ends: while the
    request creates, a retry with the key waits its turn (409); once this
    transaction is gone, committed or not, the key is free to replay or to
    take over. Call it inside the transaction that creates and completes."""
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("Hold an idempotency key inside the transaction that uses it.")
    IdempotencyKey.objects.select_for_update().filter(pk=row.pk).exists()


def idempotency_complete(
    *, row: IdempotencyKey, status: int, body: dict, location: str = ""
) -> IdempotencyKey:
    """Store the answer the key replays from now on."""
    row.completed_at = timezone.now()
    row.response_status = status
    row.response_body = body
    row.response_location = location
    row.save(
        update_fields=["completed_at", "response_status", "response_body", "response_location"]
    )
    return row


def idempotency_release(*, row: IdempotencyKey) -> None:
    """Forget a key whose request was refused before anything was created (a
    validation error): the client may fix the body and retry with it."""
    IdempotencyKey.objects.filter(pk=row.pk, completed_at__isnull=True).delete()


@dataclass(frozen=True)
class PruneResult:
    idempotency_keys: int
    counters: int


def api_prune(*, now: dt.datetime | None = None) -> PruneResult:
    """Delete idempotency keys older than API_IDEMPOTENCY_KEY_HOURS and
    counters of windows that ended over a day ago."""
    now = now or timezone.now()
    keys, _ = IdempotencyKey.objects.filter(
        created_at__lt=now - dt.timedelta(hours=settings.API_IDEMPOTENCY_KEY_HOURS)
    ).delete()
    counters, _ = RateCounter.objects.filter(
        window_start__lt=int(now.timestamp()) - 24 * 3600
    ).delete()
    return PruneResult(idempotency_keys=keys, counters=counters)
