"""Keyset (seek) pagination of the client list: walking the pages forwards
and backwards, under every sort, gives every row exactly once and in the
order of the full list, ties and empty values included."""

import datetime as dt

import pytest
from django.utils import timezone

from clients.models import ClientAccess, ClientStatus
from clients.selectors import (
    CLIENT_LIST_SORTS,
    ClientListFilters,
    client_list,
    client_list_page,
)
from clients.services import client_search_text_refresh
from tests.conftest import make_client, make_manager, make_user

PAGE = 4
SORTS = [key for key in CLIENT_LIST_SORTS] + [f"-{key}" for key in CLIENT_LIST_SORTS]


@pytest.fixture
def crowd(sub_reseller, sub_rules, petr):
    """Nineteen clients full of ties: three names, two cities, the same
    creation time for several, some without a manager or an owner."""
    other = make_manager(reseller=sub_reseller, first_name="Анна", last_name="Белова")
    moment = timezone.make_aware(dt.datetime(2026, 3, 1, 12, 0))
    clients = []
    for number in range(19):
        client = make_client(
            reseller=sub_reseller,
            rules=sub_rules,
            owner=make_user(
                last_name=["Яковлев", "Абрамов", "Абрамов"][number % 3],
                first_name=["Иван", "Олег"][number % 2],
                email=f"owner{number % 5}-{number}@example.com",
                password=None,
            ),
            name=["Альфа", "Бета", "Гамма"][number % 3],
            city=["Омск", "Тверь"][number % 2],
            phone=f"+7916000000{number % 4}",
            manager=[petr, other, None][number % 3],
            client_type=sub_rules["company"] if number % 2 else sub_rules["person"],
            service_rule=[sub_rules["vip"], sub_rules["standard"]][number % 2],
            status=[ClientStatus.ACTIVE, ClientStatus.CREDIT_HOLD][number % 2],
            created_at=moment + dt.timedelta(hours=number % 3),
        )
        clients.append(client)
    for client in clients[::6]:
        ClientAccess.objects.filter(client=client).delete()
    # Owners taken away by hand: their emails leave the search text.
    client_search_text_refresh(client_ids=[client.pk for client in clients[::6]])
    return clients


def walk_forwards(manager, sort: str, filters=None) -> list[int]:
    seen, after = [], ""
    for _ in range(50):
        page = client_list_page(manager=manager, filters=filters, sort=sort, size=PAGE, after=after)
        seen += [client.pk for client in page.clients]
        if not page.has_next:
            return seen
        after = page.next_cursor
    raise AssertionError("the pages never end")


def walk_backwards(manager, sort: str, filters=None) -> list[int]:
    page = client_list_page(manager=manager, filters=filters, sort=sort, size=PAGE, last=True)
    seen = [client.pk for client in page.clients]
    for _ in range(50):
        if not page.has_previous:
            return seen
        page = client_list_page(
            manager=manager, filters=filters, sort=sort, size=PAGE, before=page.previous_cursor
        )
        seen = [client.pk for client in page.clients] + seen
    raise AssertionError("the pages never end")


@pytest.mark.parametrize("sort", SORTS)
def test_every_sort_pages_without_duplicates_or_gaps(petr, crowd, sort):
    expected = list(client_list(manager=petr, sort=sort).values_list("pk", flat=True))
    assert len(expected) == len(crowd)
    assert walk_forwards(petr, sort) == expected
    assert walk_backwards(petr, sort) == expected


@pytest.mark.parametrize("sort", ["-created", "name", "-owner_email", "manager"])
def test_a_search_pages_like_the_full_list(petr, crowd, sort):
    filters = ClientListFilters(search="example.com")  # every owner's email
    expected = list(
        client_list(manager=petr, filters=filters, sort=sort).values_list("pk", flat=True)
    )
    assert len(expected) == len(crowd) - len(crowd[::6])
    assert walk_forwards(petr, sort, filters) == expected
    assert walk_backwards(petr, sort, filters) == expected


def test_first_and_last_page_flags(petr, crowd):
    first = client_list_page(manager=petr, size=PAGE)
    assert not first.has_previous and first.has_next
    last = client_list_page(manager=petr, size=PAGE, last=True)
    assert last.has_previous and not last.has_next
    assert len(last.clients) == PAGE
    # Before the first page's last row: the rows above it, and nothing earlier.
    above = client_list_page(manager=petr, size=PAGE, before=first.next_cursor)
    assert [c.pk for c in above.clients] == [c.pk for c in first.clients][:-1]
    assert not above.has_previous and above.has_next


def test_previous_from_the_second_page_is_the_first(petr, crowd):
    first = client_list_page(manager=petr, size=PAGE, sort="name")
    second = client_list_page(manager=petr, size=PAGE, sort="name", after=first.next_cursor)
    again = client_list_page(manager=petr, size=PAGE, sort="name", before=second.previous_cursor)
    assert [c.pk for c in again.clients] == [c.pk for c in first.clients]
    assert not again.has_previous and again.has_next


def test_a_cursor_of_another_sort_reads_the_first_page(petr, crowd):
    by_name = client_list_page(manager=petr, size=PAGE, sort="name")
    first_by_city = client_list_page(manager=petr, size=PAGE, sort="city")
    foreign = client_list_page(manager=petr, size=PAGE, sort="city", after=by_name.next_cursor)
    # A name cursor has as many values as a city cursor, but not the types of
    # created_at: for the date sort it is refused.
    assert foreign.clients
    by_date = client_list_page(manager=petr, size=PAGE, sort="created", after=by_name.next_cursor)
    assert [c.pk for c in by_date.clients] == [
        c.pk for c in client_list_page(manager=petr, size=PAGE, sort="created").clients
    ]
    assert first_by_city.clients
