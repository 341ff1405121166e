"""Writes of the operations app: the task worker's heartbeat and the upkeep
of the task and delivery tables."""

import datetime as dt
import logging

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Q
from django.tasks import TaskResultStatus
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from notifications.models import AttemptOutcome, DeliveryAttempt
from operations.models import WorkerHeartbeat

logger = logging.getLogger(__name__)

PRUNE_BATCH_SIZE = 5000


def worker_heartbeat_beat(
    *, worker_id: str, hostname: str, pid: int, started_at: dt.datetime
) -> WorkerHeartbeat:
    """Record that the worker is alive now (one upsert)."""
    heartbeat, _created = WorkerHeartbeat.objects.update_or_create(
        worker_id=worker_id,
        defaults={
            "hostname": hostname[:255],
            "pid": pid,
            "started_at": started_at,
            "seen_at": timezone.now(),
        },
    )
    return heartbeat


def worker_heartbeat_stop(*, worker_id: str) -> None:
    """Forget a worker that stops cleanly: it is no longer a live worker."""
    WorkerHeartbeat.objects.filter(worker_id=worker_id).delete()


def worker_heartbeats_prune(*, older_than: dt.timedelta) -> int:
    """Delete the heartbeats of workers that died long ago (no clean stop)."""
    deleted, _ = WorkerHeartbeat.objects.filter(seen_at__lt=timezone.now() - older_than).delete()
    return deleted


# Any constant, the same in every worker: pg_try_advisory_xact_lock's key.
PRUNE_LOCK_KEY = 0x70616E656C  # "panel"


def _prune_lock() -> bool:
    """Take the upkeep's lock for the current transaction, or say that
    another worker holds it (PostgreSQL; elsewhere there is one worker)."""
    if connection.vendor != "postgresql":
        return True
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_xact_lock(%s)", [PRUNE_LOCK_KEY])
        return bool(cursor.fetchone()[0])


def _delete_in_batches(queryset, *, batch_size: int) -> int:
    """Delete the rows of ``queryset`` a batch at a time, each batch in its
    own short transaction, so that pruning a large backlog never holds locks
    (or a huge transaction) for long. A batch another worker is deleting
    (the lock is taken) ends this run; that worker carries on."""
    model = queryset.model
    deleted = 0
    while True:
        with transaction.atomic():
            if not _prune_lock():
                return deleted
            ids = list(queryset.values_list("pk", flat=True)[:batch_size])
            if not ids:
                return deleted
            count, _ = model.objects.filter(pk__in=ids).delete()
        deleted += count
        if len(ids) < batch_size:
            return deleted


def task_results_prune(
    *,
    finished_days: float,
    failed_days: float,
    backend_name: str = "default",
    batch_size: int = PRUNE_BATCH_SIZE,
) -> int:
    """Delete finished task rows: successful ones finished more than
    ``finished_days`` ago, failed ones after ``failed_days`` (kept longer, for
    looking into). Ready and running tasks are never touched. Returns the
    number of rows deleted."""
    now = timezone.now()
    old = DBTaskResult.objects.filter(backend_name=backend_name).filter(
        Q(
            status=TaskResultStatus.SUCCESSFUL,
            finished_at__lt=now - dt.timedelta(days=finished_days),
        )
        | Q(status=TaskResultStatus.FAILED, finished_at__lt=now - dt.timedelta(days=failed_days))
    )
    return _delete_in_batches(old.order_by(), batch_size=batch_size)


def delivery_attempts_prune(*, days: float, batch_size: int = PRUNE_BATCH_SIZE) -> int:
    """Delete the attempt rows of deliveries, finished more than ``days`` ago.
    The delivery itself (status, attempt count, last error, Message-ID) stays
    in the delivery log; an attempt still in progress is never touched."""
    old = DeliveryAttempt.objects.filter(
        finished_at__lt=timezone.now() - dt.timedelta(days=days)
    ).exclude(outcome=AttemptOutcome.STARTED)
    return _delete_in_batches(old.order_by("pk"), batch_size=batch_size)


def task_tables_prune() -> dict[str, int]:
    """The scheduled upkeep (``manage.py prune_tasks`` and the worker): task
    rows and delivery attempts past their retention settings, and the
    heartbeats of workers gone for a day. Returns the rows deleted by kind."""
    deleted = {
        "task_results": task_results_prune(
            finished_days=settings.TASK_RESULT_RETENTION_DAYS,
            failed_days=settings.TASK_FAILED_RETENTION_DAYS,
        ),
        "delivery_attempts": delivery_attempts_prune(days=settings.DELIVERY_ATTEMPT_RETENTION_DAYS),
        "worker_heartbeats": worker_heartbeats_prune(older_than=dt.timedelta(days=1)),
    }
    logger.info("Pruned %s", ", ".join(f"{n} {kind}" for kind, n in deleted.items()))
    return deleted
