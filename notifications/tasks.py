"""Queueing of notification deliveries: the task ``manage.py db_worker`` runs
(its only argument is an id) and how a delivery is put on the queue, for its
first attempt (``services.notify``) and for each retry (``delivery_send``).
Sending itself is ``notifications.delivery``."""

import datetime as dt
import logging

from django.db import transaction
from django.tasks import TaskContext, task
from django_tasks_db.backend import DatabaseBackend

from notifications.delivery import DATABASE_WAIT_SECONDS, delivery_attempt
from notifications.models import Delivery
from operator_panel.database import DATABASE_UNAVAILABLE, wait_for_database

logger = logging.getLogger(__name__)

# An error that comes back each time the database answers (a statement
# timeout, say) is not an outage: after this many rounds it fails the task.
DATABASE_ROUNDS = 3


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
    """The queued task: one attempt to send a notification. An attempt cut
    off by the database going away is made again once it is back (the cut
    attempt is then recorded as interrupted, and the resend keeps its
    Message-ID); were the task marked failed instead, its delivery would
    never be sent."""
    worker_ids = context.task_result.worker_ids
    worker_id = worker_ids[-1] if worker_ids else ""
    for _round in range(DATABASE_ROUNDS - 1):
        try:
            return delivery_send(delivery_id=delivery_id, worker_id=worker_id)
        except DATABASE_UNAVAILABLE:
            logger.warning("Delivery %s lost the database; waiting for it.", delivery_id)
            if not wait_for_database(seconds=DATABASE_WAIT_SECONDS):
                raise
    return delivery_send(delivery_id=delivery_id, worker_id=worker_id)
