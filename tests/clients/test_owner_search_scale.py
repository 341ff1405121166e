"""Owner search at scale: one query whatever the number of users, none for
short input, and on PostgreSQL one case-insensitive condition per column."""

import itertools

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from clients.selectors import owner_search
from tests.conftest import make_client, make_user

_numbers = itertools.count()


def add_owners(reseller, rules, number: int) -> None:
    for _ in range(number):
        position = next(_numbers)
        owner = make_user(
            email=f"ivanova{position}@example.com",
            first_name="Мария",
            last_name="Иванова",
            password=None,
        )
        make_client(reseller=reseller, rules=rules, owner=owner)


@pytest.mark.parametrize("query", ["ива", "Мария Иванова", "example.com", "nobody-at-all"])
def test_one_query_whatever_the_number_of_users(sub_reseller, sub_rules, query):
    add_owners(sub_reseller, sub_rules, 2)
    with CaptureQueriesContext(connection) as few:
        owner_search(reseller=sub_reseller, query=query)
    add_owners(sub_reseller, sub_rules, 30)
    with CaptureQueriesContext(connection) as many:
        found = owner_search(reseller=sub_reseller, query=query)
    assert len(few) == len(many) == 1
    assert len(found) <= 20
    assert "DISTINCT" not in many.captured_queries[0]["sql"].upper()


@pytest.mark.parametrize("query", ["", "a", "ив", " и  в "])
def test_short_input_runs_no_query(sub_reseller, query):
    with CaptureQueriesContext(connection) as queries:
        assert owner_search(reseller=sub_reseller, query=query) == []
    assert len(queries) == 0


@pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL only")
def test_postgresql_needs_one_spelling_per_word(sub_reseller, sub_rules):
    add_owners(sub_reseller, sub_rules, 2)
    with CaptureQueriesContext(connection) as queries:
        found = owner_search(reseller=sub_reseller, query="ИВАНОВА")
    assert len(found) == 2
    assert queries.captured_queries[0]["sql"].upper().count(" LIKE ") == 4  # four columns


@pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL only")
def test_users_are_scanned_without_parallel_workers(db):
    """users/migrations/0003: the owner search's plans start no parallel
    workers, which cost more to start than they save on a keystroke."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT reloptions FROM pg_class WHERE oid = 'users_user'::regclass")
        (options,) = cursor.fetchone()
    assert "parallel_workers=0" in (options or []), options


@pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL only")
def test_matches_are_planned_for_all_rows_and_read_up_to_the_limit(sub_reseller, sub_rules):
    """The matching is a MATERIALIZED CTE: planned under the candidates'
    LIMIT, PostgreSQL may scan the whole table for a fragment that 2% of a
    million users contain (four UPPER(...) LIKE per row) instead of using
    the trigram index."""
    add_owners(sub_reseller, sub_rules, 2)
    with CaptureQueriesContext(connection) as queries:
        assert len(owner_search(reseller=sub_reseller, query="ива")) == 2
    (sql,) = [query["sql"] for query in queries.captured_queries]
    assert "WITH matches AS MATERIALIZED (" in sql
    assert "SELECT pk FROM matches WHERE pk IN (" in sql and "LIMIT 1000" in sql
