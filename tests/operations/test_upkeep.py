"""Task table upkeep and the worker's heartbeat: the services, the command,
and the real worker process."""

import datetime as dt
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.core.management import call_command
from django.test import Client as HttpClient
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from notifications.models import AttemptOutcome, Delivery, DeliveryAttempt
from notifications.services import notify
from operations import services
from operations.models import WorkerHeartbeat
from tests.notifications.test_smtp_worker import database_url
from tests.operations.conftest import task_row

BASE_DIR = Path(__file__).resolve().parents[2]


@pytest.mark.django_db
def test_finished_task_rows_are_pruned_after_their_retention():
    old_done = [task_row(status="SUCCESSFUL", finished_days_ago=8) for _ in range(5)]
    recent_done = task_row(status="SUCCESSFUL", finished_days_ago=6)
    old_failed = task_row(status="FAILED", finished_days_ago=20)
    older_failed = task_row(status="FAILED", finished_days_ago=31)
    waiting = task_row(enqueued_seconds_ago=90 * 86400)
    running = task_row(status="RUNNING", enqueued_seconds_ago=90 * 86400)

    deleted = services.task_results_prune(finished_days=7, failed_days=30, batch_size=2)

    assert deleted == 6
    left = set(DBTaskResult.objects.values_list("pk", flat=True))
    assert left == {recent_done.pk, old_failed.pk, waiting.pk, running.pk}
    assert not left & {row.pk for row in [*old_done, older_failed]}


@pytest.mark.django_db
def test_old_delivery_attempts_are_pruned_and_the_delivery_stays(client_of_root, root_handler):
    [delivery] = notify(event="client.created", client=client_of_root, actor=None)
    now = timezone.now()
    old = DeliveryAttempt.objects.create(
        delivery=delivery,
        number=1,
        started_at=now - dt.timedelta(days=200),
        finished_at=now - dt.timedelta(days=200),
        outcome=AttemptOutcome.FAILED,
    )
    recent = DeliveryAttempt.objects.create(
        delivery=delivery, number=2, finished_at=now, outcome=AttemptOutcome.SENT
    )
    in_progress = DeliveryAttempt.objects.create(delivery=delivery, number=3)

    assert services.delivery_attempts_prune(days=180) == 1

    assert set(delivery.attempt_log.values_list("pk", flat=True)) == {recent.pk, in_progress.pk}
    assert not DeliveryAttempt.objects.filter(pk=old.pk).exists()
    assert Delivery.objects.filter(pk=delivery.pk).exists()


@pytest.mark.django_db
def test_the_prune_command_uses_the_retention_settings(settings, capsys):
    settings.TASK_RESULT_RETENTION_DAYS = 1
    settings.TASK_FAILED_RETENTION_DAYS = 2
    task_row(status="SUCCESSFUL", finished_days_ago=1.5)
    task_row(status="FAILED", finished_days_ago=1.5)
    WorkerHeartbeat.objects.create(
        worker_id="gone",
        hostname="old",
        pid=1,
        started_at=timezone.now() - dt.timedelta(days=3),
        seen_at=timezone.now() - dt.timedelta(days=2),
    )
    call_command("prune_tasks")
    out = capsys.readouterr().out
    assert "task_results: 1 deleted" in out
    assert "worker_heartbeats: 1 deleted" in out
    assert list(DBTaskResult.objects.values_list("status", flat=True)) == ["FAILED"]


def wait_for(condition, what: str) -> None:
    # A bounded wait for another process to act; not a timing assertion.
    for _ in range(300):
        if condition():
            return
        time.sleep(0.1)
    raise AssertionError(f"gave up waiting for {what}")


@pytest.mark.django_db(transaction=True)
def test_the_real_worker_beats_prunes_and_forgets_itself_on_a_clean_stop(settings):
    task_row(status="SUCCESSFUL", finished_days_ago=30)
    assert HttpClient().get("/health/ready").status_code == 503  # no worker yet
    env = {
        **os.environ,
        "DATABASE_URL": database_url(),
        "WORKER_HEARTBEAT_INTERVAL": "0.2",
        "TASK_PRUNE_INTERVAL": "0.5",
    }
    command = [sys.executable, "manage.py", "db_worker", "--no-reload", "--no-startup-delay"]
    command += ["--worker-id", "test-worker-1"]
    worker = subprocess.Popen(
        command, cwd=BASE_DIR, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    try:
        wait_for(
            lambda: WorkerHeartbeat.objects.filter(worker_id="test-worker-1").exists(), "a beat"
        )
        first = WorkerHeartbeat.objects.get(worker_id="test-worker-1").seen_at
        wait_for(
            lambda: WorkerHeartbeat.objects.get(worker_id="test-worker-1").seen_at > first,
            "a second beat",
        )
        assert HttpClient().get("/health/ready").status_code == 200
        wait_for(lambda: not DBTaskResult.objects.exists(), "the prune")
    finally:
        worker.send_signal(signal.SIGTERM)
        output, _ = worker.communicate(timeout=30)
    assert worker.returncode == 0, output
    assert not WorkerHeartbeat.objects.exists()
    assert HttpClient().get("/health/ready").status_code == 503
