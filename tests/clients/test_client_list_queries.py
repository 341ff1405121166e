"""The list and the client page run a fixed number of queries, however many
rows they show."""

import pytest
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from clients.models import ClientAttributeValue, ClientEvent, EventType
from tests.conftest import make_client, make_user
from users.models import PostpayMode


@pytest.fixture(autouse=True)
def _fast_passwords(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def count_queries(browser, url, params=None, *, cold: bool = True) -> int:
    """The queries of one page; ``cold``: nothing kept from an earlier page
    (the filter selects' rows, an estimated total)."""
    if cold:
        cache.clear()
    with CaptureQueriesContext(connection) as queries:
        response = browser.get(url, params or {})
    assert response.status_code == 200
    return len(queries)


def add_clients(reseller, rules, manager, number: int) -> list:
    clients = []
    for position in range(number):
        client = make_client(
            reseller=reseller,
            rules=rules,
            owner=make_user(password=None),
            manager=manager if position % 2 else None,
            client_type=rules["company"] if position % 3 else rules["person"],
            service_rule=rules["vip"] if position % 2 else rules["standard"],
        )
        clients.append(client)
    return clients


@pytest.mark.parametrize(
    "params",
    [
        {},
        {"sort": "owner"},
        {"sort": "-owner_email", "q": "example"},
        # The whole INN: a fragment such as "7707" also matches a generated
        # user (user7707@example.com) once the suite has made that many.
        {"q": "7707083893", "status": ["active", "deleted"], "per_page": "100"},
    ],
)
def test_list_queries_do_not_grow_with_the_clients(
    petr_browser, petr, sub_reseller, sub_rules, params
):
    sub_reseller.postpay_mode = PostpayMode.MANUAL
    sub_reseller.save()
    url = reverse("clients:list")
    add_clients(sub_reseller, sub_rules, petr, 5)
    one_page = count_queries(petr_browser, url, params)
    add_clients(sub_reseller, sub_rules, petr, 115)
    pages = count_queries(petr_browser, url, params)
    add_clients(sub_reseller, sub_rules, petr, 180)
    many = count_queries(petr_browser, url, params)
    assert pages == many, f"{pages} queries for 120 clients, {many} for 300"
    # The session (read, and saved on every request: three statements), the
    # user, the manager (twice: the auth backend and the view), the filter
    # selects' rows (one query for all) and the page with its owners; no
    # unbounded COUNT. A search looks in each table inside the page's query
    # on PostgreSQL; SQLite adds one query per table.
    searched = 0 if connection.vendor == "postgresql" else 3
    assert one_page <= 9 + (searched if params.get("q") else 0)
    # More than a page adds the total: PostgreSQL's estimate (one EXPLAIN)
    # and, at most 10,000 expected, one count stopped at 10,001; SQLite has
    # no estimate and counts. One page (or none: no client has that INN) is
    # its own total.
    matches_nothing = params.get("q") == "7707083893"
    extra = 0 if matches_nothing else 2 if connection.vendor == "postgresql" else 1
    assert many - one_page == extra
    # The next page of the same reseller reuses the selects' rows (kept
    # CLIENT_LIST_CHOICES_SECONDS).
    assert count_queries(petr_browser, url, params, cold=False) == many - 1


def test_root_list_queries_do_not_grow(irina_browser, root_reseller, root_rules, irina):
    url = reverse("clients:list")
    add_clients(root_reseller, root_rules, irina, 60)
    few = count_queries(irina_browser, url)
    add_clients(root_reseller, root_rules, irina, 140)
    assert count_queries(irina_browser, url) == few


def test_detail_queries_do_not_grow_with_the_events(petr_browser, petr, sub_reseller, sub_rules):
    sub_reseller.postpay_mode = PostpayMode.MANUAL
    sub_reseller.save()
    client = make_client(
        reseller=sub_reseller, rules=sub_rules, client_type=sub_rules["company"], manager=petr
    )
    for key in ("inn", "kpp", "ogrn"):
        ClientAttributeValue.objects.create(
            client=client, attribute=sub_rules["attributes"][key], value="1"
        )
    url = reverse("clients:detail", args=[client.pk])

    def log(number: int, actor) -> None:
        ClientEvent.objects.bulk_create(
            ClientEvent(
                client=client,
                event_type=EventType.STATUS_CHANGED,
                subject=f"Событие {n}",
                actor=actor if n % 2 else None,
            )
            for n in range(number)
        )

    log(1, petr.user)
    one = count_queries(petr_browser, url)
    log(49, make_user(password=None))
    fifty = count_queries(petr_browser, url)
    assert one == fifty, f"{one} queries for 1 event, {fifty} for 50"
    # +2: the role's permissions (user's and groups'), read once per request;
    # +1: the active managers of the "Change manager" dialog.
    assert fifty <= 15
