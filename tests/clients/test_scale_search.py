"""The list at scale: a fixed number of queries whatever the table size, no
substring query for short input, no unbounded COUNT, the trigram indexes really used
on PostgreSQL (EXPLAIN: the name, phone and user indexes serve Django admin's
search and the owner search; the list's own search text has its plans in
test_search_text.py), and Django admin's estimated total."""

import re

import pytest
from django.contrib.admin.sites import site
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from clients.admin import EstimatedCountPaginator
from clients.models import Client, ClientAttributeValue
from clients.selectors import ClientListFilters, client_list_page
from tests.conftest import make_client, make_user

LIST_URL = reverse("clients:list")
postgresql_only = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="PostgreSQL indexes and statistics"
)


def add_clients(reseller, rules, number: int) -> None:
    for _ in range(number):
        client = make_client(
            reseller=reseller,
            rules=rules,
            owner=make_user(password=None),
            name="ООО «Вектор»",
            client_type=rules["company"],
        )
        ClientAttributeValue.objects.create(
            client=client, attribute=rules["attributes"]["inn"], value="7707083893"
        )


def captured(browser, url, params) -> list[str]:
    """The queries of a page read cold: nothing kept from an earlier page."""
    cache.clear()
    with CaptureQueriesContext(connection) as queries:
        response = browser.get(url, params)
    assert response.status_code == 200
    return [query["sql"] for query in queries.captured_queries]


@pytest.mark.parametrize(
    "params",
    [
        {"q": "вектор"},  # name
        {"q": "example.com"},  # every owner's email
        {"q": "7707083893"},  # an INN: exact, and a phone and name fragment
        {"q": "+7 916"},
        {"q": "ов", "sort": "-name"},
        {"q": "вектор", "status": ["active"], "sort": "owner"},
    ],
)
def test_search_queries_do_not_grow_with_the_table(petr_browser, sub_reseller, sub_rules, params):
    add_clients(sub_reseller, sub_rules, 60)
    few = captured(petr_browser, LIST_URL, params)
    add_clients(sub_reseller, sub_rules, 60)
    many = captured(petr_browser, LIST_URL, params)
    assert len(few) == len(many)
    # The total is counted only up to 10,001 (tests/clients/test_client_list_total.py).
    counts = [sql for sql in many if re.search(r"COUNT\(", sql, re.IGNORECASE)]
    assert all("LIMIT 10001" in sql for sql in counts), counts


def test_the_next_page_costs_what_the_first_does(petr_browser, sub_reseller, sub_rules):
    add_clients(sub_reseller, sub_rules, 60)
    first = captured(petr_browser, LIST_URL, {"sort": "name"})
    page = petr_browser.get(LIST_URL, {"sort": "name"}).content.decode()
    cursor = re.search(r'after=([^"&]+)"', page).group(1)
    second = captured(petr_browser, LIST_URL, {"sort": "name", "after": cursor})
    assert len(first) == len(second)
    assert not any("OFFSET" in sql.upper() for sql in second)


@pytest.mark.parametrize("search", ["ов", "a", "12", "#5", "+7", " о "])
def test_short_input_runs_no_substring_query(petr, sub_reseller, sub_rules, search):
    add_clients(sub_reseller, sub_rules, 2)
    with CaptureQueriesContext(connection) as queries:
        client_list_page(manager=petr, filters=ClientListFilters(search=search), size=50)
    for query in queries.captured_queries:
        assert " LIKE " not in query["sql"].upper(), query["sql"]


def test_short_input_still_finds_the_exact_id(petr, sub_reseller, sub_rules):
    add_clients(sub_reseller, sub_rules, 2)
    client = Client.objects.order_by("pk").first()
    page = client_list_page(manager=petr, filters=ClientListFilters(search=str(client.pk)), size=50)
    if client.pk < 100:
        assert [row.pk for row in page.clients] == [client.pk]


def test_a_longer_input_searches_substrings(petr, sub_reseller, sub_rules):
    add_clients(sub_reseller, sub_rules, 2)
    with CaptureQueriesContext(connection) as queries:
        page = client_list_page(manager=petr, filters=ClientListFilters(search="Вект"), size=50)
    assert len(page.clients) == 2
    assert any(" LIKE " in query["sql"].upper() for query in queries.captured_queries)


# --- PostgreSQL: the plans ---------------------------------------------------


def explain(queryset, *, disable=("seqscan",), **options) -> str:
    """The plan of a query with some plan types disabled: the tables of a test
    are so small that a sequential scan (or a sort) would always win."""
    with connection.cursor() as cursor:
        for plan_type in disable:
            cursor.execute(f"SET LOCAL enable_{plan_type} = off")
        plan = queryset.explain(**options)
        for plan_type in disable:
            cursor.execute(f"SET LOCAL enable_{plan_type} = on")
    return plan


@postgresql_only
def test_the_database_classifies_cyrillic_letters(db):
    """pg_trgm makes trigrams of letters as LC_CTYPE classifies them: in a
    C (ASCII) locale a Cyrillic word yields none and no index can serve it."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT datctype FROM pg_database WHERE datname = current_database()")
        (ctype,) = cursor.fetchone()
        cursor.execute("SELECT array_length(show_trgm('Альфа'), 1)")
        (trigrams,) = cursor.fetchone()
    assert "UTF-8" in ctype.upper().replace("UTF8", "UTF-8"), ctype
    assert trigrams == 6


@postgresql_only
def test_a_cyrillic_name_search_uses_the_trigram_index(sub_reseller, sub_rules):
    """Django admin's name search (``icontains``): the index itself narrows
    the rows, nothing is removed by the recheck.
    In a C-locale database the Cyrillic pattern would give no trigrams, the
    index scan would return every row and the recheck remove the twenty
    non-matching ones."""
    add_clients(sub_reseller, sub_rules, 5)
    for _ in range(20):
        make_client(reseller=sub_reseller, rules=sub_rules, name="Альфа Сервис")
    queryset = Client.objects.filter(name__icontains="вектор").order_by()
    plan = explain(
        queryset, disable=("seqscan", "indexscan"), analyze=True, costs=False, timing=False
    )
    assert "Bitmap Index Scan on clients_client_name_trgm" in plan, plan
    assert "Bitmap Heap Scan on clients_client (actual rows=5 " in plan, plan
    assert "Rows Removed by Index Recheck" not in plan, plan


@postgresql_only
def test_phone_owner_email_and_inn_use_their_indexes(petr, sub_reseller, sub_rules):
    from clients.models import ClientAccess
    from clients.selectors.list_search import _inn_client_ids

    add_clients(sub_reseller, sub_rules, 5)
    bitmap_only = ("seqscan", "indexscan")
    phones = Client.objects.filter(phone__icontains="916123").order_by()
    assert "clients_client_phone_trgm" in explain(phones, disable=bitmap_only)
    owners = ClientAccess.objects.filter(user__email__icontains="example").order_by()
    assert "users_user_search_trgm" in explain(owners, disable=bitmap_only)
    assert "clients_attrvalue_attr_value" in explain(_inn_client_ids("7707083893"))


@postgresql_only
def test_the_list_page_seeks_the_reseller_index(petr, sub_reseller, sub_rules):
    add_clients(sub_reseller, sub_rules, 5)
    with CaptureQueriesContext(connection) as queries:
        client_list_page(manager=petr, size=2, sort="name")
    page_sql = next(q["sql"] for q in queries.captured_queries if "clients_client" in q["sql"])
    assert "LIMIT 3" in page_sql
    queryset = Client.objects.filter(reseller=sub_reseller).order_by("name", "pk")
    assert "clients_client_res_name" in explain(queryset, disable=("seqscan", "sort"))


# --- Django admin's changelist --------------------------------------------------


def changelist_paginator(rf, admin_user, params=None):
    request = rf.get(reverse("admin:clients_client_changelist"), params or {})
    request.user = admin_user
    changelist = site._registry[Client].get_changelist_instance(request)
    return changelist.paginator


@pytest.fixture
def admin_user(db):
    return make_user(email="admin@example.com", is_staff=True, is_superuser=True)


def test_admin_counts_as_usual_on_other_databases(rf, admin_user, sub_reseller, sub_rules):
    add_clients(sub_reseller, sub_rules, 3)
    paginator = changelist_paginator(rf, admin_user)
    assert isinstance(paginator, EstimatedCountPaginator)
    assert paginator.count == 3


@postgresql_only
def test_admin_estimates_the_unfiltered_total(rf, admin_user, sub_reseller, sub_rules):
    add_clients(sub_reseller, sub_rules, 3)
    with connection.cursor() as cursor:
        # What ANALYZE of a big table would leave in the statistics.
        cursor.execute(
            "UPDATE pg_class SET reltuples = 1000000 WHERE oid = 'clients_client'::regclass"
        )
    with CaptureQueriesContext(connection) as queries:
        paginator = changelist_paginator(rf, admin_user)
    assert paginator.count == 1_000_000
    assert not any("COUNT(" in query["sql"].upper() for query in queries.captured_queries)
    # Searched or filtered: counted, but only up to the cap.
    with CaptureQueriesContext(connection) as queries:
        searched = changelist_paginator(rf, admin_user, {"q": "Вектор"})
    assert searched.count == 3
    counts = [query["sql"] for query in queries.captured_queries if "COUNT(" in query["sql"]]
    assert counts and all("LIMIT 10000" in sql for sql in counts), counts


@postgresql_only
def test_admin_counts_matches_without_sorting_them(rf, admin_user, sub_reseller, sub_rules):
    """The capped count of a search does not order the rows it counts: with
    ORDER BY the database sorts every match (or walks the whole table in
    creation order) before it can stop at the cap."""
    add_clients(sub_reseller, sub_rules, 3)
    with CaptureQueriesContext(connection) as queries:
        assert changelist_paginator(rf, admin_user, {"q": "Вектор"}).count == 3
    counts = [query["sql"] for query in queries.captured_queries if "COUNT(" in query["sql"]]
    assert counts and not any("ORDER BY" in sql for sql in counts), counts


def test_admin_search_compares_the_id_only_with_a_number(rf, admin_user, sub_reseller, sub_rules):
    """A word that is no number skips the ID: comparing it as text
    (UPPER(id::text)) is a condition no index serves, and one such branch
    makes the database read every row for the whole OR."""
    add_clients(sub_reseller, sub_rules, 2)
    named = make_client(reseller=sub_reseller, rules=sub_rules, name="Альфа Сервис")
    with CaptureQueriesContext(connection) as queries:
        assert changelist_paginator(rf, admin_user, {"q": "Альфа"}).count == 1
    searched = [query["sql"] for query in queries.captured_queries if "LIKE" in query["sql"]]
    assert searched and not any("::text) = UPPER" in sql for sql in searched), searched
    # A number still finds the client by its ID (and by phone fragments).
    found = changelist_paginator(rf, admin_user, {"q": str(named.pk)}).object_list
    assert named in found


@postgresql_only
def test_admin_search_uses_an_index_for_every_column(admin_user, rf, sub_reseller, sub_rules):
    add_clients(sub_reseller, sub_rules, 5)
    model_admin = site._registry[Client]
    request = rf.get(reverse("admin:clients_client_changelist"))
    request.user = admin_user
    queryset, _duplicates = model_admin.get_search_results(
        request, Client.objects.order_by(), "Вектор"
    )
    plan = explain(queryset, disable=("seqscan", "indexscan"))
    assert "Seq Scan" not in plan, plan
    for index in ("clients_client_name_trgm", "clients_client_admin_search_trgm"):
        assert index in plan, plan


def test_admin_says_when_its_totals_are_estimated(admin_user, sub_reseller, sub_rules):
    """Under the changelist's pages, on PostgreSQL (where the paginator
    estimates or caps): the total is not an exact count there."""
    from django.test import Client as HttpClient

    add_clients(sub_reseller, sub_rules, 2)
    browser = HttpClient()
    browser.force_login(admin_user)
    page = browser.get(reverse("admin:clients_client_changelist")).content.decode()
    assert ('data-testid="estimated-total"' in page) == (connection.vendor == "postgresql")
