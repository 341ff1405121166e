"""Two transfers of one client's ownership at the same moment, against
PostgreSQL in real transactions, each in its own thread and connection: they
happen one after the other (the client's row is locked first), so the
one-owner index holds and the log tells one consistent story. Each test
forces the interleaving: the first holds the lock until the second waits
for it."""

import threading
import time

import pytest
from django.db import connection

from clients import services
from clients.models import AccessLevel, ClientAccess, ClientEvent, EventType
from tests.conftest import make_client, make_user

pytestmark = [
    pytest.mark.skipif(
        connection.vendor != "postgresql", reason="PostgreSQL: two transactions in parallel"
    ),
    pytest.mark.django_db(transaction=True),
]
WAIT = 10  # seconds; a test that waits this long has failed


def wait(event: threading.Event) -> None:
    assert event.wait(WAIT), "the other transfer never got there"


def wait_until_someone_waits_for_a_lock() -> None:
    deadline = time.monotonic() + WAIT
    with connection.cursor() as cursor:
        while time.monotonic() < deadline:
            cursor.execute("SELECT count(*) FROM pg_locks WHERE NOT granted")
            if cursor.fetchone()[0]:
                return
            time.sleep(0.02)
    raise AssertionError("the second transfer never waited for the first's lock")


def transfer_at_once(monkeypatch, petr, client, first_to, second_to) -> dict[str, object]:
    """Thread "first" transfers to `first_to` and, holding the client's lock,
    waits until thread "second" (transferring to `second_to`) waits for it."""
    first_locked, second_waits = threading.Event(), threading.Event()
    original_lock = services.access._lock_client

    def lock(target):
        locked = original_lock(target)
        if threading.current_thread().name == "first":
            first_locked.set()
            wait(second_waits)
        return locked

    monkeypatch.setattr(services.access, "_lock_client", lock)
    answers: dict[str, object] = {}

    def run(name: str, user) -> None:
        if name == "second":
            wait(first_locked)
        try:
            answers[name] = services.client_ownership_transfer(actor=petr, client=client, user=user)
        except Exception as error:  # reported below, not lost in the thread
            answers[name] = error
        finally:
            connection.close()

    threads = [
        threading.Thread(target=run, args=("first", first_to), name="first"),
        threading.Thread(target=run, args=("second", second_to), name="second"),
    ]
    for thread in threads:
        thread.start()
    wait(first_locked)
    wait_until_someone_waits_for_a_lock()
    second_waits.set()
    for thread in threads:
        thread.join(WAIT * 3)
    assert not any(thread.is_alive() for thread in threads)
    return answers


@pytest.fixture
def world(petr, sub_reseller, sub_rules):
    owner = make_user(email="owner@race.example")
    client = make_client(reseller=sub_reseller, rules=sub_rules, owner=owner)
    anna = make_user(email="anna@race.example")
    boris = make_user(email="boris@race.example")
    for user in (anna, boris):
        ClientAccess.objects.create(client=client, user=user, level=AccessLevel.USER)
    return client, owner, anna, boris


def test_two_transfers_to_different_users_happen_one_after_the_other(monkeypatch, petr, world):
    client, owner, anna, boris = world

    answers = transfer_at_once(monkeypatch, petr, client, anna, boris)

    assert answers == {"first": True, "second": True}
    assert dict(client.accesses.values_list("user__email", "level")) == {
        "owner@race.example": AccessLevel.ADMIN,
        "anna@race.example": AccessLevel.ADMIN,
        "boris@race.example": AccessLevel.OWNER,
    }
    chain = [
        (event.data["old_owner"], event.data["new_owner"])
        for event in ClientEvent.objects.filter(
            client=client, event_type=EventType.OWNERSHIP_TRANSFERRED
        ).order_by("pk")
    ]
    # The second saw the first's result: the owner it demoted is Anna.
    names = {user.pk: user.get_full_name() for user in (owner, anna, boris)}
    assert chain == [(names[owner.pk], names[anna.pk]), (names[anna.pk], names[boris.pk])]


def test_the_same_transfer_submitted_twice_happens_once(monkeypatch, petr, world):
    client, _owner, anna, _boris = world

    answers = transfer_at_once(monkeypatch, petr, client, anna, anna)

    assert answers == {"first": True, "second": False}
    assert client.accesses.filter(level=AccessLevel.OWNER).get().user == anna
    assert (
        ClientEvent.objects.filter(
            client=client, event_type=EventType.OWNERSHIP_TRANSFERRED
        ).count()
        == 1
    )
