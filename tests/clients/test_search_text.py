"""The list's search text (clients/search.py): what it holds, that every
service that changes one of its parts writes it again, the Django admin's
email change and the rebuild command, and on PostgreSQL the plans that read
it (one condition, its trigram index; an INN ORed in through the IDs'
index)."""

import importlib
import io
import threading
from types import SimpleNamespace

import pytest
from django.apps import apps
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from clients import services
from clients.inputs import NewOwner
from clients.models import AccessLevel, Client, ClientAccess, ClientAttributeValue
from clients.search import (
    EMAIL_MAX_LENGTH,
    NAME_MAX_LENGTH,
    PHONE_MAX_LENGTH,
    SEARCH_TEXT_MAX_LENGTH,
    SEPARATOR,
    search_fragment,
    search_text,
)
from clients.selectors import ClientListFilters, client_list, client_list_page
from clients.selectors.list_search import _search_condition
from tests.clients.test_client_update import sections
from tests.clients.test_ownership_transfer_race import wait_until_someone_waits_for_a_lock
from tests.conftest import make_client, make_user
from users.models import User

postgresql_only = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="PostgreSQL's plans and indexes"
)


def found(manager, search: str) -> list[int]:
    """The IDs the list's first page shows for a search."""
    page = client_list_page(manager=manager, filters=ClientListFilters(search=search), size=50)
    return [row.pk for row in page.clients]


def test_the_parts_are_as_long_as_their_columns():
    assert Client._meta.get_field("name").max_length == NAME_MAX_LENGTH
    assert Client._meta.get_field("phone").max_length == PHONE_MAX_LENGTH
    assert User._meta.get_field("email").max_length == EMAIL_MAX_LENGTH
    longest = search_text(
        name="ﬃ" * NAME_MAX_LENGTH, phone="ﬃ" * PHONE_MAX_LENGTH, owner_email="ﬃ" * EMAIL_MAX_LENGTH
    )
    assert len(longest) == SEARCH_TEXT_MAX_LENGTH
    assert Client._meta.get_field("search_text").max_length == SEARCH_TEXT_MAX_LENGTH


def test_the_text_is_folded_and_its_parts_kept_apart():
    text = search_text(name="ООО «Вектор» Straße", phone="+79161234567", owner_email="A@B.example")
    assert text == SEPARATOR.join(["ооо «вектор» strasse", "+79161234567", "a@b.example"])
    assert search_text(name="Альфа", phone="+7916", owner_email=None).endswith(SEPARATOR)
    assert search_fragment("ВЕКТОР") == "вектор"
    assert search_fragment(f"ктор{SEPARATOR}+7") is None


def test_a_search_finds_any_letter_case_of_any_alphabet(petr, sub_reseller, sub_rules):
    vector = make_client(reseller=sub_reseller, rules=sub_rules, name="ООО «Вектор»")
    strasse = make_client(reseller=sub_reseller, rules=sub_rules, name="Große Straße GmbH")

    assert found(petr, "вЕКТОР") == [vector.pk]
    assert found(petr, "STRASSE") == [strasse.pk]
    assert found(petr, "große") == [strasse.pk]


def test_a_fragment_never_spans_two_parts(petr, sub_reseller, sub_rules):
    """ "ктор+7916" is the end of the name and the start of the phone: no
    client holds it, in any part."""
    make_client(reseller=sub_reseller, rules=sub_rules, name="Вектор", phone="+79161234567")

    assert found(petr, "ктор+7916") == []
    assert found(petr, f"ктор{SEPARATOR}+7916") == []
    assert found(petr, "ктор") != []


@pytest.fixture
def created(petr, sub_rules) -> Client:
    return services.client_create(
        actor=petr,
        reseller=petr.reseller,
        owner=NewOwner(first_name="Анна", last_name="Орлова", email="Anna.Orlova@Example.com"),
        **sections(sub_rules),
    )


def test_a_new_client_is_found_by_each_part(petr, created):
    assert created.search_text == search_text(
        name="Иванов Иван Петрович", phone="+79161234567", owner_email="anna.orlova@example.com"
    )
    for fragment in ("Иванов", "916 123-45", "+7 (916) 123", "ANNA.ORLOVA", f"#{created.pk}"):
        assert found(petr, fragment) == [created.pk], fragment


def test_an_edit_of_the_name_or_phone_writes_it_again(petr, created, sub_rules):
    changed = sections(sub_rules)
    changed["contacts"] = changed["contacts"].__class__(
        **{**changed["contacts"].__dict__, "phone": "+7 495 765-43-21"}
    )
    changed["contract_person"] = changed["contract_person"].__class__(
        **{**changed["contract_person"].__dict__, "last_name": "Сидоров"}
    )
    created.refresh_from_db()
    services.client_update(actor=petr, client=created, version=created.version, **changed)

    assert found(petr, "Сидоров") == [created.pk]
    assert found(petr, "495765") == [created.pk]
    assert found(petr, "Иванов Иван") == []
    assert found(petr, "916123") == []
    assert found(petr, "anna.orlova") == [created.pk]  # the owner stays


def test_an_ownership_transfer_writes_it_again(petr, created, sub_reseller, sub_rules):
    # A user of another of the reseller's clients: one Пётр may add.
    colleague = make_user(email="maria@client.example", password=None)
    other = make_client(reseller=sub_reseller, rules=sub_rules, owner=colleague)
    services.client_access_add(actor=petr, client=created, user=colleague, level=AccessLevel.USER)

    services.client_ownership_transfer(actor=petr, client=created, user=colleague)

    assert sorted(found(petr, "maria@client")) == [created.pk, other.pk]
    assert found(petr, "anna.orlova") == []


def test_an_owner_email_changed_in_django_admin_writes_it_again(admin_client, petr, created):
    owner = ClientAccess.objects.get(client=created, level=AccessLevel.OWNER).user
    response = admin_client.post(
        reverse("admin:users_user_change", args=[owner.pk]),
        {
            "email": "anna.new@client.example",
            "first_name": owner.first_name,
            "middle_name": owner.middle_name,
            "last_name": owner.last_name,
            "is_active": "on",
            "date_joined_0": "2026-01-01",
            "date_joined_1": "00:00:00",
        },
    )

    assert response.status_code == 302, response.content.decode()[:3000]
    assert found(petr, "anna.new@client") == [created.pk]
    assert found(petr, "anna.orlova") == []


def test_the_rebuild_command_mends_rows_changed_by_hand(petr, sub_reseller, sub_rules):
    clients = [make_client(reseller=sub_reseller, rules=sub_rules, name="Альфа") for _ in range(3)]
    Client.objects.filter(pk=clients[0].pk).update(name="Омега")
    Client.objects.filter(pk=clients[1].pk).update(search_text="")
    output = io.StringIO()

    call_command("client_search_rebuild", stdout=output)
    call_command("client_search_rebuild", stdout=output)

    assert output.getvalue().splitlines() == [
        "2 clients' search text written",
        "0 clients' search text written",
    ]
    assert found(petr, "Омега") == [clients[0].pk]
    assert sorted(found(petr, "Альфа")) == [clients[1].pk, clients[2].pk]


def test_the_export_finds_what_the_page_finds(petr, sub_reseller, sub_rules):
    vector = make_client(reseller=sub_reseller, rules=sub_rules, name="ООО «Вектор»")
    make_client(reseller=sub_reseller, rules=sub_rules, name="Альфа")
    filters = ClientListFilters(search="вектор")

    assert list(client_list(manager=petr, filters=filters).values_list("pk", flat=True)) == [
        vector.pk
    ]
    assert found(petr, "вектор") == [vector.pk]


# --- PostgreSQL: the plans ---------------------------------------------------


def plan_of(queryset, *, disable=("seqscan",)) -> str:
    """The plan with some plan types off: a test's tables are so small that
    a sequential scan would always win."""
    with connection.cursor() as cursor:
        for plan_type in disable:
            cursor.execute(f"SET LOCAL enable_{plan_type} = off")
        plan = queryset.explain()
        for plan_type in disable:
            cursor.execute(f"SET LOCAL enable_{plan_type} = on")
    return plan


@postgresql_only
def test_a_rare_fragment_is_found_through_the_trigram_index(petr, sub_reseller, sub_rules):
    for _ in range(5):
        make_client(reseller=sub_reseller, rules=sub_rules, name="ООО «Вектор»")
    page = client_list(manager=petr, filters=ClientListFilters(search="вектор"))
    queryset = Client.objects.filter(_search_condition("вектор")).order_by()

    plan = plan_of(queryset, disable=("seqscan", "indexscan"))

    assert "Bitmap Index Scan on clients_client_search_trgm" in plan, plan
    assert " UNION " not in str(page.query)


@postgresql_only
def test_an_inn_is_ored_in_through_an_index(petr, sub_reseller, sub_rules):
    """The INN's clients come as an array of IDs computed once: with the ID
    and the search text, one BitmapOr of three indexes, no walk of the table
    testing each row against a subquery."""
    client = make_client(reseller=sub_reseller, rules=sub_rules)
    ClientAttributeValue.objects.create(
        client=client, attribute=sub_rules["attributes"]["inn"], value="7707083893"
    )
    queryset = Client.objects.filter(_search_condition("7707083893")).order_by()

    plan = plan_of(queryset, disable=("seqscan", "indexscan"))

    assert "BitmapOr" in plan, plan
    assert "clients_client_search_trgm" in plan, plan
    assert "InitPlan" in plan, plan
    assert "Bitmap Index Scan on clients_client_pkey" in plan, plan
    assert found(petr, "7707083893") == [client.pk]


def test_the_migration_fills_the_text_of_the_clients_there_are(
    petr, sub_reseller, sub_rules, monkeypatch
):
    """clients/0008's fill, batch by batch (three clients to a batch here):
    every client's text written, the owner's email included, and a second run
    writes nothing."""
    fill_migration = importlib.import_module("clients.migrations.0008_client_search_text_fill")
    monkeypatch.setattr(fill_migration, "BATCH", 3)
    clients = [make_client(reseller=sub_reseller, rules=sub_rules, name="Альфа") for _ in range(7)]
    Client.objects.update(search_text="")
    editor = SimpleNamespace(connection=connection)

    fill_migration.fill(apps, editor)

    for client in clients:
        client.refresh_from_db()
        owner = ClientAccess.objects.get(client=client, level=AccessLevel.OWNER).user
        assert client.search_text == search_text(
            name="Альфа", phone=client.phone, owner_email=owner.email
        )
    assert len(found(petr, "альфа")) == 7
    with CaptureQueriesContext(connection) as queries:
        fill_migration.fill(apps, editor)
    assert not any(query["sql"].startswith("UPDATE") for query in queries.captured_queries)


@postgresql_only
@pytest.mark.django_db(transaction=True)
def test_a_refresh_during_a_transfer_writes_the_new_owner(
    monkeypatch, petr, sub_reseller, sub_rules
):
    """An owner's email changed in Django admin while the client's ownership
    moves to another user: the refresh waits for the transfer's lock, then
    reads the new owner, so the text ends with the new owner's email, not
    the old owner's new one. Two threads, two connections, real transactions."""
    old_owner = make_user(email="old.owner@client.example", password=None)
    new_owner = make_user(email="new.owner@client.example", password=None)
    client = make_client(reseller=sub_reseller, rules=sub_rules, owner=old_owner)
    ClientAccess.objects.create(client=client, user=new_owner, level=AccessLevel.USER)
    # Its text out of date (changed by hand): the rebuild has something to write.
    Client.objects.filter(pk=client.pk).update(search_text="")
    transfer_wrote, refresh_waits = threading.Event(), threading.Event()
    original_record = services.client_event_record

    def record(**kwargs):
        # The transfer's writes are done, its transaction still open.
        if threading.current_thread().name == "transfer":
            transfer_wrote.set()
            assert refresh_waits.wait(10), "the refresh never waited"
        return original_record(**kwargs)

    monkeypatch.setattr(services.access, "client_event_record", record)
    failures = []

    def transfer() -> None:
        try:
            services.client_ownership_transfer(actor=petr, client=client, user=new_owner)
        except Exception as error:  # reported below, not lost in the thread
            failures.append(error)
        finally:
            connection.close()

    def rebuild() -> None:
        try:
            assert transfer_wrote.wait(10)
            services.client_search_text_refresh(client_ids=[client.pk])
        except Exception as error:
            failures.append(error)
        finally:
            connection.close()

    threads = [
        threading.Thread(target=transfer, name="transfer"),
        threading.Thread(target=rebuild, name="rebuild"),
    ]
    for thread in threads:
        thread.start()
    assert transfer_wrote.wait(10)
    wait_until_someone_waits_for_a_lock()
    refresh_waits.set()
    for thread in threads:
        thread.join(30)

    assert not failures, failures
    client.refresh_from_db()
    assert client.search_text.endswith(SEPARATOR + "new.owner@client.example")


def test_look_alikes_and_invisible_characters_fold_away(petr, sub_reseller, sub_rules):
    owner = make_user(email="anna@example.com", password=None)
    client = make_client(reseller=sub_reseller, rules=sub_rules, name="Вектор", owner=owner)

    assert found(petr, "ＥＸＡＭＰＬＥ") == [client.pk]  # fullwidth letters
    assert found(petr, "exa\u200bmple") == [client.pk]  # a zero-width space inside
    assert found(petr, "\u200b\u200b\u200b") == []  # nothing visible: nothing found
    assert found(petr, "в\u200b\u200b") == []  # one letter left: too short to search


def test_a_name_that_folds_very_long_still_fits_its_column(petr, sub_reseller, sub_rules):
    """NFKC makes "ﷺ" eighteen characters: a name of 255 of them is kept
    to three times its column, and the client is saved and found."""
    client = make_client(reseller=sub_reseller, rules=sub_rules, name="ﷺ" * 255)

    client.refresh_from_db()
    assert len(client.search_text) <= SEARCH_TEXT_MAX_LENGTH
    assert found(petr, "ﷺ" * 3) == [client.pk]
