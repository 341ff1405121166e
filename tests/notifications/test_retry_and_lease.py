"""Failed sends are retried with backoff, a bounded number of times; tasks
whose worker died are put back by the lease recovery of our db_worker."""

import datetime as dt
import socket

import pytest
from django.core import mail
from django.core.management import get_commands
from django.tasks import TaskResultStatus
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from clients.models import EventType
from notifications.delivery import DeliveryAttemptFailed, retry_delay
from notifications.models import AttemptOutcome, DeliveryAttempt, DeliveryStatus, TemplateContent
from notifications.services import notify, tasks_recover_expired
from notifications.tasks import delivery_send
from tests.notifications.conftest import run_worker


def first_call_loses_the_database(original, message: str):
    """``original`` whose first call raises the error of a restarting
    PostgreSQL; the later ones run it. Returns the wrapper and the list of
    the calls' keyword arguments."""
    from django.db import OperationalError

    calls = []

    def wrapper(**kwargs):
        calls.append(kwargs)
        if len(calls) == 1:
            raise OperationalError(message)
        return original(**kwargs)

    return wrapper, calls


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def smtp_down(settings):
    """The real SMTP backend, pointed at a port where nothing listens."""
    settings.MAILERS = {
        "default": {
            "BACKEND": "django.core.mail.backends.smtp.EmailBackend",
            "OPTIONS": {"host": "127.0.0.1", "port": closed_port(), "timeout": 5},
        }
    }


def test_retry_delay_grows_exponentially_within_jitter():
    low = [
        retry_delay(failed_attempts=n, base=60, cap=3600, rand=lambda a, b: a) for n in (1, 2, 3)
    ]
    high = [
        retry_delay(failed_attempts=n, base=60, cap=3600, rand=lambda a, b: b) for n in (1, 2, 3)
    ]

    assert low == [30, 60, 120]
    assert high == [60, 120, 240]


def test_retry_delay_is_capped():
    assert retry_delay(failed_attempts=30, base=60, cap=3600, rand=lambda a, b: b) == 3600


def test_failed_send_is_logged_and_rescheduled(client_of_root, root_handler, smtp_down, settings):
    settings.NOTIFICATION_RETRY_BASE_DELAY = 100
    settings.NOTIFICATION_RETRY_MAX_DELAY = 1000
    [delivery] = notify(event=EventType.CLIENT_CREATED, client=client_of_root, actor=None)
    first_task = delivery.task_id

    before = timezone.now()
    with pytest.raises(DeliveryAttemptFailed):
        delivery_send(delivery_id=delivery.pk)
    after = timezone.now()

    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.RETRYING
    assert delivery.attempts == 1
    assert "Connection refused" in delivery.last_error or "ConnectionRefused" in delivery.last_error
    assert delivery.subject == "Клиент Ромашка создан"
    [attempt] = delivery.attempt_log.all()
    assert attempt.outcome == AttemptOutcome.FAILED
    assert attempt.error == delivery.last_error
    retry_task = DBTaskResult.objects.get(id=delivery.task_id)
    assert delivery.task_id != first_task
    assert retry_task.status == TaskResultStatus.READY
    assert retry_task.args_kwargs["kwargs"] == {"delivery_id": delivery.pk}
    # First retry: between half a step and a step (50-100 s) after the failure.
    assert before + dt.timedelta(seconds=50) <= retry_task.run_after
    assert retry_task.run_after <= after + dt.timedelta(seconds=100)
    assert retry_task.run_after == delivery.next_attempt_at


def test_attempts_are_bounded(client_of_root, root_handler, smtp_down, settings):
    settings.NOTIFICATION_MAX_ATTEMPTS = 3
    [delivery] = notify(event=EventType.CLIENT_CREATED, client=client_of_root, actor=None)

    for _ in range(3):
        with pytest.raises(DeliveryAttemptFailed):
            delivery_send(delivery_id=delivery.pk)

    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.FAILED
    assert delivery.attempts == 3
    assert delivery.next_attempt_at is None
    # One task queued by notify, two retries, none after the last attempt.
    assert DBTaskResult.objects.count() == 3
    # A stray run of the task after giving up sends nothing and records nothing.
    assert delivery_send(delivery_id=delivery.pk) == DeliveryStatus.FAILED
    assert DeliveryAttempt.objects.filter(delivery=delivery).count() == 3


def test_unrenderable_template_fails_without_retry(client_of_root, root_handler):
    TemplateContent.objects.filter(template=root_handler.template).update(
        body_text="{% include 'x.html' %}"
    )
    [delivery] = notify(event=EventType.CLIENT_CREATED, client=client_of_root, actor=None)

    assert delivery_send(delivery_id=delivery.pk) == DeliveryStatus.FAILED

    delivery.refresh_from_db()
    assert delivery.attempts == 1
    assert DBTaskResult.objects.count() == 1
    assert mail.outbox == []


def test_sent_delivery_is_not_sent_again(client_of_root, root_handler):
    [delivery] = notify(event=EventType.CLIENT_CREATED, client=client_of_root, actor=None)

    assert delivery_send(delivery_id=delivery.pk) == DeliveryStatus.SENT
    assert delivery_send(delivery_id=delivery.pk) == DeliveryStatus.SENT

    assert len(mail.outbox) == 1


def test_db_worker_command_is_ours():
    # operations' worker (heartbeat, upkeep) extends this app's (lease recovery).
    from notifications.management.commands.db_worker import Command as LeaseRecoveringWorker
    from operations.management.commands.db_worker import Command as Worker

    assert get_commands()["db_worker"] == "operations"
    assert issubclass(Worker, LeaseRecoveringWorker)


def _claim(task_row: DBTaskResult, *, minutes_ago: float, workers: list[str]) -> None:
    task_row.status = TaskResultStatus.RUNNING
    task_row.started_at = timezone.now() - dt.timedelta(minutes=minutes_ago)
    task_row.worker_ids = workers
    task_row.save()


def test_task_past_its_lease_is_put_back(client_of_root, root_handler, settings):
    settings.TASK_LEASE_SECONDS = 600
    notify(event=EventType.CLIENT_CREATED, client=client_of_root, actor=None)
    task_row = DBTaskResult.objects.get()
    _claim(task_row, minutes_ago=11, workers=["dead-worker"])

    assert tasks_recover_expired() == 1

    task_row.refresh_from_db()
    assert task_row.status == TaskResultStatus.READY


def test_task_within_its_lease_is_left_alone(client_of_root, root_handler, settings):
    settings.TASK_LEASE_SECONDS = 600
    notify(event=EventType.CLIENT_CREATED, client=client_of_root, actor=None)
    task_row = DBTaskResult.objects.get()
    _claim(task_row, minutes_ago=9, workers=["busy-worker"])

    assert tasks_recover_expired() == 0

    task_row.refresh_from_db()
    assert task_row.status == TaskResultStatus.RUNNING


def test_task_that_keeps_losing_its_worker_is_given_up(client_of_root, root_handler, settings):
    settings.TASK_MAX_RECOVERIES = 2
    notify(event=EventType.CLIENT_CREATED, client=client_of_root, actor=None)
    task_row = DBTaskResult.objects.get()
    _claim(task_row, minutes_ago=60, workers=["w1", "w2", "w3"])

    assert tasks_recover_expired() == 1

    task_row.refresh_from_db()
    assert task_row.status == TaskResultStatus.FAILED
    assert task_row.exception_class_path.endswith("TaskLeaseExpired")


@pytest.mark.django_db(transaction=True)
def test_worker_recovers_a_dead_workers_task_and_resends_with_same_message_id(
    client_of_root, root_handler
):
    """The worker died after starting the attempt: the task stayed RUNNING and
    the attempt "started". The next db_worker puts the task back and sends."""
    [delivery] = notify(event=EventType.CLIENT_CREATED, client=client_of_root, actor=None)
    task_row = DBTaskResult.objects.get()
    _claim(task_row, minutes_ago=60, workers=["dead-worker"])
    delivery.attempts = 1
    delivery.status = DeliveryStatus.SENDING
    delivery.save()
    DeliveryAttempt.objects.create(delivery=delivery, number=1, worker_id="dead-worker")

    run_worker()

    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.SENT
    assert [(a.number, a.outcome) for a in delivery.attempt_log.all()] == [
        (1, AttemptOutcome.INTERRUPTED),
        (2, AttemptOutcome.SENT),
    ]
    [message] = mail.outbox
    assert message.extra_headers["Message-ID"] == delivery.message_id
    task_row.refresh_from_db()
    assert task_row.status == TaskResultStatus.SUCCESSFUL


@pytest.mark.django_db(transaction=True)
def test_running_worker_recovers_in_its_background_thread(client_of_root, root_handler, settings):
    """The long-running worker's recovery thread, not only the start-up pass."""
    import threading
    import time

    from notifications.management.commands.db_worker import _recover_forever

    settings.TASK_LEASE_SECONDS = 600
    notify(event=EventType.CLIENT_CREATED, client=client_of_root, actor=None)
    task_row = DBTaskResult.objects.get()
    _claim(task_row, minutes_ago=60, workers=["dead-worker"])
    stop = threading.Event()
    thread = threading.Thread(target=_recover_forever, args=("default", stop, 0.05))
    thread.start()
    try:
        # Poll for the outcome; the deadline only bounds a broken run.
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            task_row.refresh_from_db()
            if task_row.status == TaskResultStatus.READY:
                break
            time.sleep(0.05)
    finally:
        stop.set()
        thread.join()

    assert task_row.status == TaskResultStatus.READY


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize(
    ("cut_off", "attempts"),
    [
        # PostgreSQL restarting while the message is rendered: not a broken
        # template (that would fail the delivery for good) but an outage; the
        # attempt is made again once the database is back.
        ("message_context", [(1, AttemptOutcome.INTERRUPTED), (2, AttemptOutcome.SENT)]),
        # The email left, then PostgreSQL restarted before the attempt was
        # recorded: it is recorded once the database is back, not sent again.
        ("_attempt_finish", [(1, AttemptOutcome.SENT)]),
    ],
)
def test_a_delivery_that_loses_the_database_is_sent_once(
    client_of_root, root_handler, monkeypatch, cut_off, attempts
):
    from notifications import delivery as delivery_module

    [delivery] = notify(event=EventType.CLIENT_CREATED, client=client_of_root, actor=None)
    while_postgres_restarts, calls = first_call_loses_the_database(
        getattr(delivery_module, cut_off), "terminating connection due to administrator command"
    )
    monkeypatch.setattr(delivery_module, cut_off, while_postgres_restarts)

    run_worker()

    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.SENT
    assert [(a.number, a.outcome) for a in delivery.attempt_log.all()] == attempts
    assert len(mail.outbox) == 1
    assert len(calls) == 2
    assert DBTaskResult.objects.get().status == TaskResultStatus.SUCCESSFUL


@pytest.mark.django_db(transaction=True)
def test_an_error_that_outlasts_the_database_coming_back_fails_the_task(
    client_of_root, root_handler, monkeypatch
):
    """An OperationalError each time the database answers (a statement
    timeout, say) is not an outage: a bounded number of rounds, then the task
    fails as any other error would."""
    from django.db import OperationalError

    from notifications import delivery as delivery_module
    from notifications.tasks import DATABASE_ROUNDS

    notify(event=EventType.CLIENT_CREATED, client=client_of_root, actor=None)
    calls = []

    def always_times_out(**kwargs):
        calls.append(1)
        raise OperationalError("canceling statement due to statement timeout")

    monkeypatch.setattr(delivery_module, "message_context", always_times_out)

    run_worker()

    assert len(calls) == DATABASE_ROUNDS
    assert DBTaskResult.objects.get().status == TaskResultStatus.FAILED
    assert mail.outbox == []


@pytest.mark.django_db(transaction=True)
def test_the_worker_does_not_exit_when_it_loses_the_database(monkeypatch, settings, caplog):
    """The worker's own loop (claiming a task, marking it done) meeting a
    restart: it starts again after WORKER_DATABASE_RETRY_SECONDS."""
    from django.core.management import call_command
    from django.db import OperationalError
    from django_tasks_db.management.commands import db_worker as library

    settings.WORKER_DATABASE_RETRY_SECONDS = 0
    runs = []

    def loop_meeting_a_restart(self, *args, **options):
        runs.append(1)
        if len(runs) == 1:
            raise OperationalError("server closed the connection unexpectedly")

    monkeypatch.setattr(library.Command, "handle", loop_meeting_a_restart)

    call_command("db_worker", "--no-reload", "--no-startup-delay", "--interval=0", verbosity=0)

    assert len(runs) == 2
    assert "The worker lost the database; starting again in 0 s." in caplog.text
