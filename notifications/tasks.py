"""Queueing of notification deliveries: the task ``manage.py db_worker`` runs
(its only argument is an id) and how a delivery is put on the queue, for its
first attempt (``services.notify``) and for each retry (``delivery_send``).
Sending itself is ``notifications.delivery``."""

import datetime as dt

from django.db import transaction
from django.tasks import TaskContext, task
from django_tasks_db.backend import DatabaseBackend

from notifications.delivery import delivery_attempt
from notifications.models import Delivery


def delivery_enqueue(*, delivery: Delivery, run_after: dt.datetime | None = None) -> None:
    """Queue an attempt to send the delivery, now or at ``run_after``; call it
    inside the transaction that writes the delivery."""
    queued = deliver_notification.using(run_after=run_after) if run_after else deliver_notification
    if isinstance(queued.get_backend(), DatabaseBackend):
        # The task row joins the current transaction: it commits or rolls back with it.
        result = queued.enqueue(delivery_id=delivery.pk)
        delivery.task_id = str(result.id)
        delivery.save(update_fields=["task_id", "updated_at"])
    else:
        # Another backend (in memory, immediate) must not see an uncommitted delivery.
        transaction.on_commit(lambda: queued.enqueue(delivery_id=delivery.pk))


def delivery_send(*, delivery_id: int, worker_id: str = "") -> str:
    """One attempt to send a queued delivery (``delivery.delivery_attempt``);
    a failed send queues its next attempt here. Returns the delivery's status."""
    return delivery_attempt(
        delivery_id=delivery_id, worker_id=worker_id, schedule_retry=delivery_enqueue
    )


@task(takes_context=True)
def deliver_notification(context: TaskContext, delivery_id: int) -> str:
    """The queued task: one attempt to send a notification."""
    worker_ids = context.task_result.worker_ids
    return delivery_send(delivery_id=delivery_id, worker_id=worker_ids[-1] if worker_ids else "")
