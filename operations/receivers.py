"""Receivers that count and log; they observe the apps and decide nothing.

- a client committed → ``panel_clients_created_total`` (page, API or other,
  from the view that is answering, see ``operations.middleware``);
- a delivery queued, and each attempt's end (sent, retried, failed) →
  ``panel_notifications_total``; ``notifications.services`` saves a delivery
  whole exactly once per finished attempt, and with ``update_fields`` for
  everything else;
- a failed sign-in and a lockout (django-axes) → their counters;
- a task run: its log lines (with the request id it carries) and
  ``panel_task_runs_total`` / ``panel_task_run_duration_seconds``.

Counters move only when the transaction commits: a rolled-back client was
never created.
"""

import time
from typing import Any

import structlog
from axes.signals import user_locked_out
from django.contrib.auth.signals import user_login_failed
from django.db import transaction
from django.db.models.signals import post_save
from django.dispatch import receiver
from django.tasks import TaskResultStatus
from django.tasks.signals import task_enqueued, task_finished, task_started
from django_structlog.tasks.receivers import DjangoTaskReceiver

from clients.models import Client
from notifications.models import Delivery, DeliveryStatus
from operations import metrics
from operations.middleware import current_view_name
from operations.tasks_backend import task_log_context

task_logger = structlog.getLogger("operations.tasks")

FINISHED_OUTCOMES = {
    DeliveryStatus.SENT: "sent",
    DeliveryStatus.FAILED: "failed",
    DeliveryStatus.RETRYING: "retried",
}


def client_channel(view_name: str | None) -> str:
    """Where a client was created, from the view that answered."""
    if view_name is None:
        return "other"
    if view_name.startswith("api"):
        return "api"
    if view_name == "clients:create":
        return "page"
    return "other"


@receiver(post_save, sender=Client, dispatch_uid="operations_client_created")
def _client_created(sender, instance: Client, created: bool, **kwargs) -> None:
    if created:
        channel = client_channel(current_view_name())
        transaction.on_commit(lambda: metrics.clients_created.labels(channel=channel).inc())


@receiver(post_save, sender=Delivery, dispatch_uid="operations_delivery_saved")
def _delivery_saved(sender, instance: Delivery, created: bool, update_fields, **kwargs) -> None:
    if created:
        outcome = "queued"
    elif update_fields is None and instance.status in FINISHED_OUTCOMES:
        outcome = FINISHED_OUTCOMES[instance.status]
    else:
        return
    transaction.on_commit(lambda: metrics.notifications.labels(outcome=outcome).inc())


@receiver(user_login_failed, dispatch_uid="operations_sign_in_failed")
def _sign_in_failed(sender, **kwargs) -> None:
    metrics.sign_in_failures.inc()


@receiver(user_locked_out, dispatch_uid="operations_locked_out")
def _locked_out(sender, **kwargs) -> None:
    metrics.sign_in_lockouts.inc()


class TaskLogReceiver(DjangoTaskReceiver):
    """django-structlog's task receiver, taking the queuing request's context
    from the task row (``operations.tasks_backend``) instead of a cache
    shared by the web nodes and the workers, and logging one line per run
    with its duration and outcome."""

    def __init__(self) -> None:
        self._started: dict[str, float] = {}

    def receiver_task_enqueued(self, sender, task_result, **kwargs) -> None:
        task_logger.debug(
            "task_enqueued", task_id=str(task_result.id), task=task_result.task.module_path
        )

    def receiver_task_started(self, sender, task_result, **kwargs) -> None:
        structlog.contextvars.clear_contextvars()
        db_result = getattr(task_result, "db_result", None)
        context: dict[str, Any] = task_log_context(db_result) if db_result is not None else {}
        if "task_id" in context:
            context["parent_task_id"] = context.pop("task_id")
        structlog.contextvars.bind_contextvars(task_id=str(task_result.id), **context)
        self._started[str(task_result.id)] = time.perf_counter()
        task_logger.debug("task_started", task=task_result.task.module_path)

    def receiver_task_finished(self, sender, task_result, **kwargs) -> None:
        task = task_result.task.module_path
        started = self._started.pop(str(task_result.id), None)
        duration = time.perf_counter() - started if started is not None else None
        status = task_result.status
        fields: dict[str, Any] = {
            "task": task,
            "status": str(status).lower(),
            "attempt": len(task_result.worker_ids),
        }
        if duration is not None:
            fields["duration_ms"] = round(duration * 1000, 1)
            metrics.task_run_duration.labels(task=task).observe(duration)
        metrics.task_runs.labels(task=task, status=fields["status"]).inc()
        if status == TaskResultStatus.FAILED and task_result.errors:
            fields["exception_class"] = task_result.errors[-1].exception_class_path
            task_logger.warning("task_finished", **fields)
        else:
            task_logger.info("task_finished", **fields)
        structlog.contextvars.clear_contextvars()


_task_receiver = TaskLogReceiver()
task_enqueued.connect(_task_receiver.receiver_task_enqueued, dispatch_uid="operations_enqueued")
task_started.connect(_task_receiver.receiver_task_started, dispatch_uid="operations_started")
task_finished.connect(_task_receiver.receiver_task_finished, dispatch_uid="operations_finished")
