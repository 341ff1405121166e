"""The replica router: which reads go to DATABASE_REPLICA_URL and which stay
on the primary. The replica here is a second connection (alias "replica") to
the test database, as Django's TEST MIRROR makes it; the tests are
transactional so that it sees what the primary committed. Each test records
the queries of both connections and asserts where each kind went."""

import csv
import io
import types

import pytest
from django.db import connections, router, transaction
from django.db.backends.base.base import BaseDatabaseWrapper
from django.test.utils import CaptureQueriesContext

from clients.models import Client
from operations import routing
from tests.clients.test_client_create_page import CREATE_URL, page_data, person
from tests.conftest import make_client

pytestmark = pytest.mark.django_db(transaction=True)


def _unguarded_ensure_connection():
    """BaseDatabaseWrapper.ensure_connection as Django wrote it: during a test
    Django replaces it with a guard that refuses aliases the test did not
    declare, and an alias added after the test began cannot be declared."""
    method = BaseDatabaseWrapper.ensure_connection
    for cell in method.__closure__ or ():
        inner = cell.cell_contents
        if getattr(inner, "__qualname__", "") == "BaseDatabaseWrapper.ensure_connection":
            return inner
    return method


@pytest.fixture
def replica(transactional_db, monkeypatch):
    """A "replica" alias: the test database through a connection of its own."""
    connections.settings[routing.REPLICA] = {**connections["default"].settings_dict}
    assert routing.replica_configured()
    connection = connections[routing.REPLICA]
    monkeypatch.setattr(
        connection,
        "ensure_connection",
        types.MethodType(_unguarded_ensure_connection(), connection),
    )
    yield connection
    connections[routing.REPLICA].close()
    del connections[routing.REPLICA]
    del connections.settings[routing.REPLICA]


class Queries:
    """The queries each database ran inside the block."""

    def __init__(self) -> None:
        self.primary = CaptureQueriesContext(connections["default"])
        self.replica = CaptureQueriesContext(connections[routing.REPLICA])

    def __enter__(self) -> "Queries":
        self.primary.__enter__()
        self.replica.__enter__()
        return self

    def __exit__(self, *exc) -> None:
        self.replica.__exit__(*exc)
        self.primary.__exit__(*exc)

    @staticmethod
    def _client_reads(context: CaptureQueriesContext) -> list[str]:
        return [q["sql"] for q in context.captured_queries if 'FROM "clients_client"' in q["sql"]]

    @property
    def client_reads_on_primary(self) -> list[str]:
        return self._client_reads(self.primary)

    @property
    def client_reads_on_replica(self) -> list[str]:
        return self._client_reads(self.replica)


def test_the_list_and_its_search_read_clients_from_the_replica(
    replica, petr_browser, petr, sub_rules
):
    make_client(reseller=petr.reseller, rules=sub_rules, name="Ромашка")
    for url in ("/clients/", "/clients/?q=Ромашка"):
        with Queries() as queries:
            response = petr_browser.get(url)
        assert response.status_code == 200
        assert "Ромашка" in response.content.decode()
        assert queries.client_reads_on_replica
        assert queries.client_reads_on_primary == []
        # The session is saved on every request: a write, on the primary.
        assert not any(q["sql"].startswith("UPDATE") for q in queries.replica.captured_queries)


def test_the_streamed_export_reads_from_the_replica_while_it_is_sent(
    replica, petr_browser, petr, sub_rules
):
    make_client(reseller=petr.reseller, rules=sub_rules, name="Ромашка")
    with Queries() as queries:
        response = petr_browser.get("/clients/export.csv")
        body = b"".join(response.streaming_content).decode("utf-8-sig")
    assert len(list(csv.reader(io.StringIO(body)))) == 2
    assert queries.client_reads_on_replica
    assert queries.client_reads_on_primary == []


def test_other_pages_read_from_the_primary(replica, petr_browser, petr, sub_rules):
    client = make_client(reseller=petr.reseller, rules=sub_rules)
    with Queries() as queries:
        assert petr_browser.get(f"/clients/{client.pk}/").status_code == 200
        assert petr_browser.get(CREATE_URL).status_code == 200
    assert queries.replica.captured_queries == []


def test_after_a_post_the_browser_reads_from_the_primary_for_a_while(
    replica, petr_browser, sub_rules, settings
):
    """The page after "Create" redirects, and the list, come from the primary:
    a lagging replica cannot hide the new client."""
    settings.DATABASE_REPLICA_PIN_SECONDS = 10
    data = person(page_data(petr_browser.get(CREATE_URL)), **{"owner-new_email": "new@x.example"})
    with Queries() as queries:
        response = petr_browser.post(CREATE_URL, data)
    assert response.status_code == 302
    assert queries.replica.captured_queries == []
    pin = response.cookies[routing.PIN_COOKIE]
    assert pin["max-age"] == 10
    assert pin["httponly"]
    with Queries() as queries:
        assert petr_browser.get(response["Location"]).status_code == 200
        listing = petr_browser.get("/clients/")
    assert "Иванов Иван" in listing.content.decode()
    assert queries.replica.captured_queries == []
    assert queries.client_reads_on_primary
    # The pin expires with its cookie: then the list reads from the replica again.
    petr_browser.cookies.pop(routing.PIN_COOKIE)
    with Queries() as queries:
        petr_browser.get("/clients/")
    assert queries.client_reads_on_replica


def test_a_read_after_a_write_in_the_same_request_goes_to_the_primary(replica, petr, sub_rules):
    client = make_client(reseller=petr.reseller, rules=sub_rules)
    with routing.reading_from_replica():
        assert router.db_for_read(Client) == routing.REPLICA
        Client.objects.filter(pk=client.pk).update(city="Тверь")
        assert router.db_for_read(Client) == routing.PRIMARY
        assert Client.objects.get(pk=client.pk).city == "Тверь"


def test_reads_inside_a_transaction_go_to_the_primary(replica):
    with routing.reading_from_replica():
        with transaction.atomic():
            assert router.db_for_read(Client) == routing.PRIMARY
        assert router.db_for_read(Client) == routing.REPLICA


def test_without_a_replica_everything_is_the_primary(petr_browser):
    assert not routing.replica_configured()
    with routing.reading_from_replica():
        assert router.db_for_read(Client) == routing.PRIMARY
    response = petr_browser.post("/i18n/setlang/", {"language": "en"})
    assert routing.PIN_COOKIE not in response.cookies


def test_writes_and_migrations_stay_on_the_primary(replica):
    assert router.db_for_write(Client) == routing.PRIMARY
    assert router.allow_migrate(routing.REPLICA, "clients") is False
    assert router.allow_migrate(routing.PRIMARY, "clients") is True


def test_the_api_list_reads_accounts_from_the_replica_and_its_token_from_the_primary(
    replica, irina, root_reseller, root_rules
):
    """The API counts each request (a write) and looks up its token before it
    lists: neither moves the list to the primary, and a token made a moment
    ago works although the replica may not have it yet."""
    from tests.api.conftest import ApiClient, token_for

    make_client(reseller=root_reseller, rules=root_rules, name="Ромашка")
    api = ApiClient(token_for(irina))
    with Queries() as queries:
        response = api.get(f"/api/v3/resellers/{root_reseller.pk}/accounts")
    assert response.status_code == 200, response.content
    assert "Ромашка" in response.content.decode()
    assert queries.client_reads_on_replica
    assert queries.client_reads_on_primary == []
    replica_tables = " ".join(q["sql"] for q in queries.replica.captured_queries)
    assert '"api_apitoken"' not in replica_tables
    assert '"api_ratecounter"' not in replica_tables
    primary_tables = " ".join(q["sql"] for q in queries.primary.captured_queries)
    assert '"api_apitoken"' in primary_tables


def test_an_api_account_read_by_id_comes_from_the_primary(
    replica, irina, root_reseller, root_rules
):
    """Right after a create an integrator reads the new account by its id."""
    from tests.api.conftest import ApiClient, token_for

    client = make_client(reseller=root_reseller, rules=root_rules)
    api = ApiClient(token_for(irina))
    with Queries() as queries:
        response = api.get(f"/api/v3/resellers/{root_reseller.pk}/accounts/{client.pk}")
    assert response.status_code == 200
    assert queries.replica.captured_queries == []
