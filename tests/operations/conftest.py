"""Helpers of the operations tests."""

import datetime as dt

import pytest
from django.utils import timezone, translation
from django_tasks_db.models import DBTaskResult, get_date_max
from prometheus_client import REGISTRY

from operations.models import WorkerHeartbeat
from tests.notifications.conftest import (  # noqa: F401 (fixtures for these tests too)
    client_of_root,
    owner,
    root_handler,
    template,
)


@pytest.fixture(autouse=True)
def _default_language_after():
    """A request here may activate English (the API's tests speak it) and the
    probes answer before LocaleMiddleware: leave the thread's language as the
    next test expects it, the default."""
    yield
    translation.deactivate()


def sample(name: str, **labels: str) -> float:
    """A metric's current value in this process (0 when never recorded)."""
    return REGISTRY.get_sample_value(name, labels) or 0.0


def beat(*, seconds_ago: float = 0, worker_id: str = "w1") -> WorkerHeartbeat:
    now = timezone.now()
    return WorkerHeartbeat.objects.update_or_create(
        worker_id=worker_id,
        defaults={
            "hostname": "test",
            "pid": 1,
            "started_at": now - dt.timedelta(hours=1),
            "seen_at": now - dt.timedelta(seconds=seconds_ago),
        },
    )[0]


def task_row(
    *,
    status: str = "READY",
    enqueued_seconds_ago: float = 0,
    run_after: dt.datetime | None = None,
    finished_days_ago: float | None = None,
    queue_name: str = "default",
) -> DBTaskResult:
    """A task row as django-tasks-db writes it (the time stamps set by hand)."""
    now = timezone.now()
    row = DBTaskResult.objects.create(
        args_kwargs={"args": [], "kwargs": {}},
        task_path="notifications.tasks.deliver_notification",
        backend_name="default",
        queue_name=queue_name,
        run_after=run_after or get_date_max(),
        status=status,
    )
    fields = {"enqueued_at": now - dt.timedelta(seconds=enqueued_seconds_ago)}
    if finished_days_ago is not None:
        fields["finished_at"] = now - dt.timedelta(days=finished_days_ago)
    DBTaskResult.objects.filter(pk=row.pk).update(**fields)
    return row
