"""The list's keyset cursors as an attacker crafts them: each value is checked
against its column's type before it reaches a query, and a cursor that does not
fit is ignored like any other unusable parameter (the first page, with the
notice above the table). NUL or over-long values in any parameter of the list
or the CSV export never give a 500."""

import base64
import datetime as dt
import json

import pytest
from django.urls import reverse
from django.utils import timezone

from clients.selectors import CLIENT_LIST_SORTS, client_list_cursor, client_list_page
from tests.clients.test_client_list import listed_ids
from tests.conftest import make_client

LIST_URL = reverse("clients:list")
pytestmark = pytest.mark.usefixtures("english")
EXPORT_URL = reverse("clients:export")
NOTICE = 'data-testid="ignored-parameters"'
CURSOR_MESSAGE = "Page: This page link does not fit the list; the first page is shown."
EVERY_SORT = [*CLIENT_LIST_SORTS, *(f"-{key}" for key in CLIENT_LIST_SORTS)]


def cursor(values: object) -> str:
    """A cursor as the list makes them: URL-safe base64 of JSON, unpadded."""
    text = json.dumps(values, separators=(",", ":"))
    return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")


@pytest.fixture
def crowd(sub_reseller, sub_rules, petr):
    """Sixty of Пётр's clients, so that the first page (50) has a next one;
    half of them without a manager (an empty sort value)."""
    start = timezone.make_aware(dt.datetime(2026, 1, 1, 12, 0))
    return [
        make_client(
            reseller=sub_reseller,
            rules=sub_rules,
            name=f"Клиент {number:02}",
            city=f"Город {number % 7}",
            manager=petr if number % 2 else None,
            created_at=start + dt.timedelta(hours=number),
        )
        for number in range(60)
    ]


# The examples of the probe, and their kin ------------------------------------------------

CRAFTED = {
    # The probe's four: each was a 500.
    "created, [12345,1]": ("created", "WzEyMzQ1LDFd"),
    "name, a NUL in the name": ("name", "WyJhXHUwMDAwIiwxXQ"),
    "created, [false,1]": ("created", cursor([False, 1])),
    "city, a NUL in the city": ("city", cursor(["a\x00", 1])),
    # Their kin: each value against its column's type.
    "-created, [false,1]": ("-created", cursor([False, 1])),
    "created, a float": ("created", cursor([1.5, 1])),
    "created, a naive time": ("created", cursor(["2026-01-01T12:00:00", 1])),
    "created, not a time": ("created", cursor(["2026-02-30T12:00:00+03:00", 1])),
    "created, a NUL in the time": ("created", cursor(["2026-01-01T12:00:00+03:00\x00", 1])),
    "created, null": ("created", cursor([None, 1])),
    "name, longer than the column": ("name", cursor(["z" * 256, 1])),
    "name, a lone surrogate": ("name", "WyJcdWQ4MDAiLDFd"),  # ["\ud800",1]
    "name, a number": ("name", cursor([7, 1])),
    "name, a list": ("name", cursor([["a"], 1])),
    "name, an object": ("name", cursor([{"a": 1}, 1])),
    "id, true": ("id", cursor([True])),
    "id, a float": ("id", cursor([1.0])),
    "id, a string": ("id", cursor(["1"])),
    "id, null": ("id", cursor([None])),
    "id, beyond bigint": ("id", cursor([2**63])),
    "id, negative": ("id", cursor([-1])),
    "id, a huge integer": ("id", cursor([10**300])),
    "owner, a NUL in the first name": ("owner", cursor(["Иванов", "a\x00", 1])),
    "owner_email, longer than the column": ("owner_email", cursor(["a" * 255, 1])),
    "manager, false": ("manager", cursor([False, None, 1])),
    "country, longer than a code": ("country", cursor(["RUS", 1])),
    "too few values": ("name", cursor([1])),
    "too many values": ("id", cursor([1, 2])),
    "nested a thousand deep": ("id", cursor(json.loads("[" * 700 + "]" * 700))),
    "deep nesting that is not JSON": ("id", base64.urlsafe_b64encode(b"[" * 1400).decode()),
}


@pytest.mark.parametrize("sort, after", CRAFTED.values(), ids=CRAFTED.keys())
@pytest.mark.parametrize("direction", ["after", "before"])
def test_a_crafted_cursor_shows_the_first_page_and_says_so(
    petr_browser, crowd, sort, after, direction
):
    first_page = listed_ids(petr_browser.get(LIST_URL, {"sort": sort}))

    response = petr_browser.get(LIST_URL, {"sort": sort, direction: after})

    assert response.status_code == 200
    assert listed_ids(response) == first_page
    html = response.content.decode()
    assert NOTICE in html and CURSOR_MESSAGE in html
    export = petr_browser.get(EXPORT_URL, {"sort": sort, direction: after})
    assert export.status_code == 200
    assert len(b"".join(export.streaming_content).splitlines()) == len(crowd) + 1


@pytest.mark.parametrize("sort, after", CRAFTED.values(), ids=CRAFTED.keys())
def test_the_selector_refuses_a_crafted_cursor(petr, crowd, sort, after):
    assert client_list_cursor(after, sort=sort) is None
    first = client_list_page(manager=petr, sort=sort, size=10)
    crafted = client_list_page(manager=petr, sort=sort, size=10, after=after)
    assert [row.pk for row in crafted.clients] == [row.pk for row in first.clients]


@pytest.mark.parametrize("sort", EVERY_SORT)
def test_the_lists_own_cursors_still_lead_on(petr_browser, petr, crowd, sort):
    """The checks refuse only what the list never makes: for every sort key,
    the Next and Previous links of a real page are read without a notice."""
    first = client_list_page(manager=petr, sort=sort, size=50)
    assert client_list_cursor(first.next_cursor, sort=sort) is not None

    second = petr_browser.get(LIST_URL, {"sort": sort, "after": first.next_cursor})
    assert NOTICE not in second.content.decode()
    assert len(listed_ids(second)) == len(crowd) - 50
    back = client_list_page(
        manager=petr,
        sort=sort,
        size=50,
        before=client_list_page(
            manager=petr, sort=sort, size=50, after=first.next_cursor
        ).previous_cursor,
    )
    assert [row.pk for row in back.clients] == [row.pk for row in first.clients]


# NUL and over-long values in every parameter ----------------------------------------------

LIST_PARAMETERS = [
    "q",
    "status",
    "client_type",
    "service_rule",
    "manager",
    "reseller",
    "created_from",
    "created_to",
    "sort",
    "per_page",
    "after",
    "before",
    "last",
    "page",
]
VALUES = {
    "NUL inside": "city\x00",
    "NUL alone": "\x00",
    "over-long": "я" * 5000,
    "over-long digits": "9" * 5000,
    "over-long NULs": "\x00" * 5000,
    "NUL in a cursor": cursor(["\x00", 1]),
}


@pytest.mark.parametrize("name", LIST_PARAMETERS)
def test_nul_and_over_long_parameters_never_fail(
    petr_browser, irina_browser, sub_reseller, sub_rules, name
):
    make_client(reseller=sub_reseller, rules=sub_rules)
    for value in VALUES.values():
        params = {name: value} if name == "sort" else {name: value, "sort": "city"}
        for browser in (petr_browser, irina_browser):  # Ирина has the reseller filter
            for url in (LIST_URL, EXPORT_URL):
                response = browser.get(url, params)
                assert response.status_code == 200, (url, name, value[:20])
                if response.streaming:
                    b"".join(response.streaming_content)


def test_an_over_long_search_is_reported(petr_browser, sub_reseller, sub_rules):
    make_client(reseller=sub_reseller, rules=sub_rules)
    response = petr_browser.get(LIST_URL, {"q": "я" * 201})
    assert NOTICE in response.content.decode()
    assert "Ensure this value has at most 200 characters" in response.content.decode()
