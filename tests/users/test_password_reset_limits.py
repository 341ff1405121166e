"""Floods of "forgot password" requests: at most one reset email per account per
PASSWORD_RESET_MIN_INTERVAL, at most PASSWORD_RESET_ADDRESS_LIMIT requests per
address, the same answer for every request, and reset emails in a queue of
their own that a worker takes after the client notifications."""

import datetime as dt
import re
import subprocess
import threading
from pathlib import Path

import pytest
from django.conf import settings as django_settings
from django.core import mail
from django.core.management import call_command
from django.db import connection, transaction
from django.test import Client as HttpClient
from django.urls import reverse
from django_tasks_db.models import DBTaskResult

from clients.models import EventType
from notifications.services import notify
from notifications.tasks import deliver_notification
from tests.clients.test_ownership_transfer_race import WAIT, wait_until_someone_waits_for_a_lock
from tests.conftest import make_client, make_user
from users import services
from users.models import PasswordResetRequest
from users.tasks import send_password_reset

RESET_URL = reverse("password_reset")
PETR = "petr@partner.example"
CSRF_RE = re.compile(rb'(csrfmiddlewaretoken" value="|"X-CSRFToken": ")[^"]+')


def request_reset(email: str, address: str = "10.1.0.1"):
    return HttpClient(REMOTE_ADDR=address).post(RESET_URL, {"email": email})


def answer(response) -> tuple:
    return (response.status_code, response["Location"], CSRF_RE.sub(rb"\1", response.content))


def run_worker(*options: str) -> None:
    """The real worker command with its default queues, until nothing is left
    (transactional tests only, as in tests/notifications)."""
    call_command(
        "db_worker", "--batch", "--no-reload", "--no-startup-delay", "--interval=0", *options,
        verbosity=0,
    )  # fmt: skip


def reset_tasks() -> list[DBTaskResult]:
    return list(DBTaskResult.objects.filter(task_path=send_password_reset.module_path))


@pytest.mark.django_db(transaction=True)
def test_thirty_posts_from_one_address_queue_one_task_and_send_one_email(petr):
    answers = {answer(request_reset(PETR)) for _ in range(30)}

    assert len(reset_tasks()) == 1
    run_worker()
    assert [message.to for message in mail.outbox] == [[PETR]]
    # Every one of the 30 answers is the answer an unknown email gets.
    assert answers == {answer(request_reset("ghost@partner.example", address="10.1.0.2"))}


@pytest.mark.django_db(transaction=True)
def test_thirty_posts_from_thirty_addresses_send_one_email(petr):
    for number in range(30):
        request_reset(PETR if number % 2 else PETR.upper(), address=f"10.2.0.{number}")

    assert len(reset_tasks()) == 1
    run_worker()
    assert len(mail.outbox) == 1


@pytest.mark.django_db(transaction=True)
def test_another_account_is_not_held_up_by_a_flood_of_one(petr, irina):
    for _ in range(30):
        request_reset(PETR, address="10.3.0.1")
    request_reset("irina@oblako.example", address="10.3.0.2")

    run_worker()
    assert sorted(message.to[0] for message in mail.outbox) == ["irina@oblako.example", PETR]


def test_the_worker_sends_one_email_per_account_per_interval(petr):
    """Two tasks for one account (two spellings, or a request after the
    request table was cleared): the second sends nothing."""
    assert send_password_reset.call(email=PETR, domain="panel.example", use_https=True) == 1
    assert send_password_reset.call(email="Petr@Partner.example", domain="x", use_https=True) == 0
    assert len(mail.outbox) == 1


@pytest.mark.django_db(transaction=True)
def test_after_the_interval_another_email_goes(petr):
    from users.models import PasswordResetEmail, User

    request_reset(PETR)
    request_reset(PETR)
    run_worker()
    assert len(mail.outbox) == 1

    # Five minutes and a second later, as the stored times tell it.
    earlier = dt.timedelta(seconds=django_settings.PASSWORD_RESET_MIN_INTERVAL + 1)
    for row in PasswordResetEmail.objects.all():
        PasswordResetEmail.objects.filter(pk=row.pk).update(queued_at=row.queued_at - earlier)
    user = User.objects.get(pk=petr.user.pk)
    User.objects.filter(pk=user.pk).update(
        password_reset_sent_at=user.password_reset_sent_at - earlier
    )
    request_reset(PETR)
    request_reset(PETR)
    run_worker()
    assert len(mail.outbox) == 2


@pytest.mark.django_db(transaction=True)
def test_an_interval_of_zero_sends_every_time(petr, settings):
    settings.PASSWORD_RESET_MIN_INTERVAL = 0
    for number in range(3):
        request_reset(PETR, address=f"10.4.0.{number}")
        run_worker()
    assert len(mail.outbox) == 3


def test_an_address_over_its_limit_queues_nothing_and_is_answered_alike(petr, settings):
    settings.PASSWORD_RESET_ADDRESS_LIMIT = 3
    first = [answer(request_reset(f"person{n}@example.com", "10.5.0.1")) for n in range(3)]
    assert len(reset_tasks()) == 3

    over = answer(request_reset(PETR, "10.5.0.1"))
    assert len(reset_tasks()) == 3  # not even for a known account
    assert {over, *first} == {first[0]}

    request_reset(PETR, "10.5.0.2")  # another address still may
    assert len(reset_tasks()) == 4
    assert reset_tasks()[-1].args_kwargs["kwargs"]["email"] == PETR


def test_the_address_limit_frees_up_after_its_window(petr, settings):
    from users.models import PasswordResetRequest

    settings.PASSWORD_RESET_ADDRESS_LIMIT = 2
    for number in range(3):
        request_reset(f"person{number}@example.com", "10.6.0.1")
    assert len(reset_tasks()) == 2
    PasswordResetRequest.objects.update(requested_at=dt.datetime(2020, 1, 1, tzinfo=dt.UTC))
    request_reset("person9@example.com", "10.6.0.1")
    assert len(reset_tasks()) == 3
    assert PasswordResetRequest.objects.count() == 1  # the old rows were pruned


def test_reset_tasks_have_their_own_queue_below_the_notifications():
    assert set(django_settings.TASKS["default"]["QUEUES"]) == {"default", "auth"}
    assert send_password_reset.queue_name == "auth"
    assert deliver_notification.queue_name == "default"
    assert send_password_reset.priority < deliver_notification.priority


@pytest.mark.django_db(transaction=True)
def test_a_worker_sends_the_client_notification_before_queued_resets(
    petr, root_reseller, root_rules, client_created_handler, irina
):
    for number in range(3):
        request_reset(PETR, address=f"10.7.0.{number}")
        request_reset(f"ghost{number}@example.com", address=f"10.7.1.{number}")
    with transaction.atomic():
        client = make_client(reseller=root_reseller, rules=root_rules, owner=make_user())
        notify(event=EventType.CLIENT_CREATED, client=client, actor=irina.user)

    run_worker("--max-tasks=1")

    [done] = DBTaskResult.objects.filter(status="SUCCESSFUL")
    assert done.task_path == deliver_notification.module_path
    assert len(mail.outbox) == 1
    run_worker()
    assert len(mail.outbox) == 2  # and then the reset


@pytest.mark.parametrize("target", ["run", "serve"])
def test_the_make_targets_start_a_worker_for_both_queues(target):
    """`make -n` prints the commands without running them."""
    printed = subprocess.run(
        ["make", "-n", target],
        cwd=Path(django_settings.BASE_DIR),
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    [worker] = [line for line in printed.splitlines() if "db_worker" in line]
    queues = re.search(r"--queue-name[ =](\S+)", worker)
    assert queues, worker
    assert set(queues.group(1).split(",")) == {"default", "auth"}


@pytest.mark.skipif(
    connection.vendor != "postgresql", reason="PostgreSQL: two transactions in parallel"
)
@pytest.mark.django_db(transaction=True)
def test_simultaneous_requests_from_one_address_keep_its_limit(settings, monkeypatch):
    """Two requests from one address at the same moment, for two different
    emails, with a limit of one: the second waits for the first's lock on the
    address and then counts its row, so one is taken and one refused. (Without
    the lock both counted zero and both were taken.) Two threads, two
    connections, real transactions; the first pauses after counting until the
    second waits."""
    settings.PASSWORD_RESET_ADDRESS_LIMIT = 1
    first_counted, second_waits = threading.Event(), threading.Event()
    original_count = services._address_requests

    def count(address, *, since):
        counted = original_count(address, since=since)
        if threading.current_thread().name == "first":
            first_counted.set()
            assert second_waits.wait(WAIT), "the second request never waited"
        return counted

    monkeypatch.setattr(services, "_address_requests", count)
    taken: dict[str, object] = {}

    def run(name: str) -> None:
        if name == "second":
            assert first_counted.wait(WAIT)
        try:
            taken[name] = services.password_reset_request(
                email=f"{name}@partner.example", address="10.9.9.9", domain="x", use_https=False
            )
        except Exception as error:  # reported below, not lost in the thread
            taken[name] = error
        finally:
            connection.close()

    threads = [
        threading.Thread(target=run, args=(name,), name=name) for name in ("first", "second")
    ]
    for thread in threads:
        thread.start()
    assert first_counted.wait(WAIT)
    wait_until_someone_waits_for_a_lock()
    second_waits.set()
    for thread in threads:
        thread.join(WAIT * 3)

    assert taken == {"first": True, "second": False}
    assert PasswordResetRequest.objects.filter(address="10.9.9.9").count() == 1
    assert len(reset_tasks()) == 1
