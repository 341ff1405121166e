"""Reads of the operations app: the task queue, the workers' heartbeats and
the migrations, for ``/health/ready`` and ``/metrics``."""

import datetime as dt
from dataclasses import dataclass

from django.db import connections
from django.db.migrations.executor import MigrationExecutor
from django.db.models import Count, Max, Min, Q
from django.tasks import TaskResultStatus
from django.utils import timezone
from django_tasks_db.models import DBTaskResult, get_date_max

from operations.models import WorkerHeartbeat


@dataclass(frozen=True)
class QueueStats:
    """The task table now: tasks by queue and status, and how long the oldest
    task ready to run has been waiting (0 when none is)."""

    counts: dict[tuple[str, str], int]  # (queue, status) -> tasks
    oldest_ready_age: float

    def count(self, *, status: str) -> int:
        return sum(n for (_queue, each), n in self.counts.items() if each == status)


def task_queue_stats(*, backend_name: str = "default", using: str = "default") -> QueueStats:
    """Tasks waiting or running, by queue, and the age of the oldest ready one.

    Two queries on the partial index of ready tasks and the running rows; the
    finished rows (one per email sent, pruned after days) are not counted,
    so the cost does not grow with them. A deferred task (a retry with
    ``run_after``) waits from its ``run_after``, not from when it was queued.
    """
    now = timezone.now()
    tasks = DBTaskResult.objects.using(using).filter(backend_name=backend_name)
    counts = {
        (row["queue_name"], row["status"]): row["n"]
        for row in tasks.filter(status__in=[TaskResultStatus.READY, TaskResultStatus.RUNNING])
        .order_by()
        .values("queue_name", "status")
        .annotate(n=Count("id"))
    }
    ready = tasks.filter(status=TaskResultStatus.READY)
    oldest = ready.filter(run_after=get_date_max()).aggregate(at=Min("enqueued_at"))["at"]
    deferred = ready.filter(run_after__lte=now).aggregate(at=Min("run_after"))["at"]
    waiting_since = min((at for at in (oldest, deferred) if at is not None), default=None)
    age = (now - waiting_since).total_seconds() if waiting_since else 0.0
    return QueueStats(counts=counts, oldest_ready_age=max(age, 0.0))


def worker_heartbeat_age(*, using: str = "default") -> float | None:
    """Seconds since the freshest heartbeat of any task worker; None when no
    worker has ever written one (or the last one stopped cleanly)."""
    seen = WorkerHeartbeat.objects.using(using).aggregate(at=Max("seen_at"))["at"]
    if seen is None:
        return None
    return max((timezone.now() - seen).total_seconds(), 0.0)


def worker_heartbeats_fresh(*, max_age: float, using: str = "default") -> int:
    """How many workers wrote a heartbeat within ``max_age`` seconds."""
    since = timezone.now() - dt.timedelta(seconds=max_age)
    return WorkerHeartbeat.objects.using(using).filter(Q(seen_at__gte=since)).count()


def migrations_pending(*, using: str = "default") -> list[str]:
    """The migrations on disk that the database has not applied, as
    ``app.name``; the same plan ``manage.py migrate`` would run."""
    executor = MigrationExecutor(connections[using])
    targets = executor.loader.graph.leaf_nodes()
    return [f"{m.app_label}.{m.name}" for m, _backwards in executor.migration_plan(targets)]
