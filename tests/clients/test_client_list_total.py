"""The list says how many clients match: exactly up to 10,000, "about N"
(PostgreSQL's estimate) past that, and never runs an unbounded COUNT."""

import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import translation

from clients import selectors
from clients.selectors import ClientListFilters, ClientTotal, client_list_total
from clients.templatetags.client_tags import client_total
from tests.conftest import make_client, make_user

LIST_URL = reverse("clients:list")
on_postgresql = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="PostgreSQL's planner estimate"
)


def add_clients(reseller, rules, number: int, **fields) -> None:
    for _ in range(number):
        make_client(reseller=reseller, rules=rules, owner=make_user(password=None), **fields)


def shown_total(browser, params=None, language="en") -> str:
    page = browser.get(LIST_URL, params or {}, HTTP_ACCEPT_LANGUAGE=language).content.decode()
    return re.search(r'data-testid="client-count"[^>]*>([^<]*)<', page).group(1)


def test_one_page_is_counted_by_its_rows(petr_browser, sub_reseller, sub_rules):
    add_clients(sub_reseller, sub_rules, 3)
    assert shown_total(petr_browser) == "3 clients"
    assert shown_total(petr_browser, {"q": "nothing like this"}) == "0 clients"


def test_several_pages_are_counted_exactly(petr_browser, sub_reseller, sub_rules):
    add_clients(sub_reseller, sub_rules, 61)
    add_clients(sub_reseller, sub_rules, 2, status="deleted")
    assert shown_total(petr_browser) == "61 clients"
    assert shown_total(petr_browser, {"per_page": "50", "status": "deleted"}) == "2 clients"
    # Every page says the same, the last one too.
    assert shown_total(petr_browser, {"last": "1"}) == "61 clients"


def test_a_search_counts_each_client_once(petr_browser, sub_reseller, sub_rules):
    """Found by its name and by its owner's email, a client counts once."""
    for number in range(55):
        make_client(
            reseller=sub_reseller,
            rules=sub_rules,
            name=f"Alpha {number}",
            owner=make_user(password=None, email=f"alpha.{number}@example.com"),
        )
    add_clients(sub_reseller, sub_rules, 5)
    assert shown_total(petr_browser, {"q": "alpha"}) == "55 clients"


def analyze() -> None:
    """Statistics for the planner's estimate."""
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE clients_client")


def test_no_unbounded_count(petr_browser, sub_reseller, sub_rules):
    add_clients(sub_reseller, sub_rules, 60)
    for params in ({}, {"q": "Клиент"}, {"status": ["active", "deleted"]}):
        with CaptureQueriesContext(connection) as queries:
            petr_browser.get(LIST_URL, params)
        counts = [query["sql"] for query in queries if "COUNT(" in query["sql"].upper()]
        assert counts, "the total was counted"
        assert all("LIMIT 10001" in sql for sql in counts), counts


def test_past_the_cap_the_count_stops(petr, sub_reseller, sub_rules, monkeypatch):
    monkeypatch.setattr(selectors.list_totals, "CLIENT_LIST_COUNT_CAP", 50)
    # Without an estimate (SQLite), or where PostgreSQL expects fewer.
    monkeypatch.setattr(selectors.list_totals, "_plan", lambda queryset: (40, 10.0))
    add_clients(sub_reseller, sub_rules, 51)
    assert client_list_total(manager=petr) == ClientTotal(number=50, more_than=True)


@on_postgresql
def test_past_the_cap_postgresql_estimates(
    petr_browser, petr, sub_reseller, sub_rules, monkeypatch, settings
):
    settings.CLIENT_LIST_ESTIMATE_SECONDS = 0  # the page plans its own
    monkeypatch.setattr(selectors.list_totals, "CLIENT_LIST_COUNT_CAP", 50)
    add_clients(sub_reseller, sub_rules, 120)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE clients_client")
    total = client_list_total(manager=petr)
    assert total.about
    assert 60 <= total.number <= 240  # the planner's estimate, from the statistics
    with CaptureQueriesContext(connection) as queries:
        text = shown_total(petr_browser)
    assert re.fullmatch(r"about \d+ clients", text)
    assert not [query for query in queries if "COUNT(" in query["sql"].upper()]
    assert [query for query in queries if query["sql"].startswith("EXPLAIN")]


@on_postgresql
def test_an_expensive_count_is_not_run(petr, sub_reseller, sub_rules, monkeypatch):
    """Few matches expected, but reading them would cost more than the page."""
    monkeypatch.setattr(selectors.list_totals, "CLIENT_LIST_COUNT_COST_LIMIT", 0)
    add_clients(sub_reseller, sub_rules, 60)
    with CaptureQueriesContext(connection) as queries:
        total = client_list_total(manager=petr, filters=ClientListFilters(search="Клиент"))
    assert total.about
    assert len(queries) == 1


@pytest.mark.parametrize(
    ("total", "english", "russian"),
    [
        (ClientTotal(number=1), "1 client", "1 клиент"),
        (ClientTotal(number=3), "3 clients", "3 клиента"),
        (ClientTotal(number=21), "21 clients", "21 клиент"),
        (ClientTotal(number=5), "5 clients", "5 клиентов"),
        (ClientTotal(number=9_999), "9,999 clients", "9\xa0999 клиентов"),
        (
            ClientTotal(number=838_196, about=True),
            "about 840,000 clients",
            "около 840\xa0000 клиентов",
        ),
        (ClientTotal(number=8_885, about=True), "about 8,900 clients", "около 8\xa0900 клиентов"),
        (ClientTotal(number=21, about=True), "about 21 clients", "около 21 клиента"),
        (
            ClientTotal(number=10_000, more_than=True),
            "more than 10,000 clients",
            "более 10\xa0000 клиентов",
        ),
    ],
)
def test_the_total_in_both_languages(total, english, russian):
    for language, expected in (("en", english), ("ru", russian)):
        with translation.override(language):
            html = str(client_total(total))
        assert f">{expected}</small>" in html, (language, html)
        assert ("title=" in html) == (total.about or total.more_than)


@on_postgresql
def test_an_estimate_is_kept_for_the_next_pages_and_an_exact_total_is_not(
    petr, sub_reseller, sub_rules, monkeypatch, settings
):
    """Paging through the same filters plans the estimate once; other
    filters, or another manager, have their own; an exact number is counted
    again on every page (a new client counts at once)."""
    settings.CLIENT_LIST_ESTIMATE_SECONDS = 60
    add_clients(sub_reseller, sub_rules, 120)
    analyze()
    monkeypatch.setattr(selectors.list_totals, "CLIENT_LIST_COUNT_CAP", 50)
    first = client_list_total(manager=petr)
    assert first.about
    with CaptureQueriesContext(connection) as queries:
        assert client_list_total(manager=petr) == first
    assert len(queries) == 0
    with CaptureQueriesContext(connection) as queries:
        client_list_total(manager=petr, filters=ClientListFilters(search="Клиент"))
    assert [query for query in queries if query["sql"].startswith("EXPLAIN")]

    monkeypatch.setattr(selectors.list_totals, "CLIENT_LIST_COUNT_CAP", 10_000)
    narrow = ClientListFilters(statuses=("active",))
    assert client_list_total(manager=petr, filters=narrow) == ClientTotal(number=120)
    add_clients(sub_reseller, sub_rules, 1)
    assert client_list_total(manager=petr, filters=narrow) == ClientTotal(number=121)


@on_postgresql
def test_without_keeping_every_page_plans_its_estimate(
    petr, sub_reseller, sub_rules, monkeypatch, settings
):
    settings.CLIENT_LIST_ESTIMATE_SECONDS = 0
    add_clients(sub_reseller, sub_rules, 120)
    analyze()
    monkeypatch.setattr(selectors.list_totals, "CLIENT_LIST_COUNT_CAP", 50)
    client_list_total(manager=petr)
    with CaptureQueriesContext(connection) as queries:
        assert client_list_total(manager=petr).about
    assert len(queries) == 1
