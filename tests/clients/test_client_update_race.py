"""Two saves of the Edit client page at the same moment, both read at the
same version, against PostgreSQL in real transactions: the second waits for
the first's row lock, then finds the version moved on and is refused; the
first's change stands. The interleaving is forced as in the transfer race."""

import threading
from dataclasses import replace

import pytest
from django.core.exceptions import ValidationError
from django.db import connection

from clients import services
from clients.inputs import ClientInfo, Contacts, ContractPerson
from clients.models import Client, ClientEvent, EventType
from tests.clients.test_ownership_transfer_race import (
    WAIT,
    wait,
    wait_until_someone_waits_for_a_lock,
)
from tests.conftest import make_client

pytestmark = [
    pytest.mark.skipif(
        connection.vendor != "postgresql", reason="PostgreSQL: two transactions in parallel"
    ),
    pytest.mark.django_db(transaction=True),
]


def test_two_saves_from_the_same_version_keep_the_first_and_refuse_the_second(
    monkeypatch, petr, sub_reseller, sub_rules
):
    client = make_client(
        reseller=sub_reseller,
        rules=sub_rules,
        contract_first_name="Иван",
        contract_last_name="Иванов",
        name="Иванов Иван",
    )
    base = {
        "client_info": ClientInfo(
            client_type=sub_rules["person"], service_rule=sub_rules["standard"]
        ),
        "contacts": Contacts(
            country="RU",
            city="Москва",
            address_line1="ул. Тверская, 1",
            phone=client.phone,
            email=client.email,
        ),
        "contract_person": ContractPerson(
            first_name="Иван", last_name="Иванов", email=client.contract_email
        ),
        "attributes": {"passport_series": "4510", "passport_number": "123456"},
    }
    first_locked, second_waits = threading.Event(), threading.Event()
    original_lock = services.update._lock_client

    def lock(target):
        locked = original_lock(target)
        if threading.current_thread().name == "first":
            first_locked.set()
            wait(second_waits)
        return locked

    monkeypatch.setattr(services.update, "_lock_client", lock)
    answers: dict[str, object] = {}

    def save(name: str, city: str) -> None:
        if name == "second":
            wait(first_locked)
        try:
            answers[name] = services.client_update(
                actor=petr,
                client=client,
                version=1,
                **{**base, "contacts": replace(base["contacts"], city=city)},
            )[1]
        except ValidationError as error:
            answers[name] = error.error_list[0].code
        except Exception as error:  # reported below, not lost in the thread
            answers[name] = error
        finally:
            connection.close()

    threads = [
        threading.Thread(target=save, args=("first", "Тверь"), name="first"),
        threading.Thread(target=save, args=("second", "Казань"), name="second"),
    ]
    for thread in threads:
        thread.start()
    wait(first_locked)
    wait_until_someone_waits_for_a_lock()
    second_waits.set()
    for thread in threads:
        thread.join(WAIT * 3)
    assert not any(thread.is_alive() for thread in threads)

    assert answers["first"][0] == "contacts.city"
    assert answers["second"] == "stale"
    client.refresh_from_db()
    assert (client.city, client.version) == ("Тверь", 2)
    assert (
        ClientEvent.objects.filter(client=client, event_type=EventType.CLIENT_UPDATED).count() == 1
    )
    assert Client.objects.count() == 1
