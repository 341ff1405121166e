"""The delivery task, run by ``manage.py db_worker``; its only argument is an id."""

from django.tasks import TaskContext, task

from notifications import services


@task(takes_context=True)
def deliver_notification(context: TaskContext, delivery_id: int) -> str:
    """One attempt to send a queued notification (see services.delivery_attempt)."""
    worker_ids = context.task_result.worker_ids
    return services.delivery_attempt(
        delivery_id=delivery_id, worker_id=worker_ids[-1] if worker_ids else ""
    )
