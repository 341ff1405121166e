"""Hostile input (hypothesis): the Add client page, the list's filters and
export, and the owner search get generated values — markup and script
payloads, SQL fragments, 100 kB strings, control characters and NUL bytes,
malformed numbers and dates, IDs of other resellers' objects, missing and
duplicated fields. Never a 500, nothing written by a rejected post, every
echoed value escaped, no line break in an email header.

Profiles (tests/conftest.py): HYPOTHESIS_PROFILE=ci (default, 40 examples
per test) or full (3,400 per test, over 10,000 in all).
"""

import pytest
from django.core import mail
from django.urls import reverse
from hypothesis import given
from hypothesis import strategies as st

from clients.models import Client, ClientEvent
from notifications.models import Delivery
from notifications.tasks import delivery_send
from tests.clients.test_client_create_page import CREATE_URL, page_data
from tests.conftest import make_client
from tests.pages import person
from users.models import User

# Values that are dangerous when echoed unescaped: none may appear as is.
MARKUP = [
    "<script>alert(1)</script>",
    '"><img src=x onerror=alert(1)>',
    "<svg/onload=alert(1)>",
    "'><iframe src=javascript:alert(1)>",
]
OTHER_PAYLOADS = [
    "' OR 1=1 --",
    "'; DROP TABLE clients_client; --",
    "1 UNION SELECT password FROM users_user",
    "\x00",
    "a\x00b",
    "\r\nBcc: victim@example.com",
    "x\nSubject: spoofed",
    "{{ 7|add:7 }}{% debug %}",
    "%s%s%n",
    "../../etc/passwd",
    "\u202eevil",
    "\ufeff",
]
MALFORMED = [
    "-1",
    "0",
    "1e309",
    "NaN",
    "0x10",
    "99999999999999999999999",
    "2026-02-30",
    "31.12.99",
    "9999-99-99",
    " ",
    "٣",
    "1.5",
    "true",
    "[]",
    "{}",
]

hostile_text = st.one_of(
    st.sampled_from(MARKUP + OTHER_PAYLOADS + MALFORMED),
    st.text(max_size=40),  # any code points: control characters, NUL, surrogates
    st.builds(
        lambda before, payload, after: before + payload + after,
        st.text(max_size=8),
        st.sampled_from(MARKUP + OTHER_PAYLOADS),
        st.text(max_size=8),
    ),
    st.builds(
        lambda unit: unit * (100_000 // len(unit)), st.sampled_from(["x", "я", "<b>", "\x00"])
    ),
)


def clean_surrogates(value: str) -> str:
    # The test client encodes the form as UTF-8; a browser cannot send lone surrogates.
    return value.encode("utf-8", "replace").decode("utf-8")


def assert_escaped(content: bytes) -> None:
    text = content.decode("utf-8", "replace")
    for payload in MARKUP:
        assert payload not in text, payload


@pytest.fixture
def hostile_world(petr, sub_reseller, sub_rules, root_reseller, root_rules, irina):
    """Пётр's reseller with its rules, and the root reseller's objects whose
    IDs a hostile post may borrow."""
    foreign_client = make_client(reseller=root_reseller, rules=root_rules)
    foreign_ids = [
        str(root_rules["person"].pk),
        str(root_rules["company"].pk),
        str(root_rules["standard"].pk),
        str(irina.pk),
        str(irina.user.pk),
        str(foreign_client.pk),
        str(foreign_client.accesses.first().user_id),
    ]
    return {"foreign_ids": foreign_ids}


@given(data=st.data())
def test_add_client_page_survives_hostile_posts(
    data, petr_browser, hostile_world, client_created_handler
):
    base = person(page_data(petr_browser.get(CREATE_URL)))
    fields = sorted(base)
    post: dict[str, object] = dict(base)
    changed = data.draw(st.lists(st.sampled_from(fields), max_size=6, unique=True))
    for name in changed:
        post[name] = data.draw(
            st.one_of(hostile_text, st.sampled_from(hostile_world["foreign_ids"])).map(
                clean_surrogates
            )
        )
    for name in data.draw(st.lists(st.sampled_from(fields), max_size=3, unique=True)):
        post.pop(name, None)  # missing fields
    for name in data.draw(st.lists(st.sampled_from(fields), max_size=2, unique=True)):
        if name in post:  # duplicated fields
            post[name] = [post[name], data.draw(hostile_text.map(clean_surrogates))]
    before = (Client.objects.count(), User.objects.count(), ClientEvent.objects.count())
    deliveries_before = Delivery.objects.count()

    response = petr_browser.post(CREATE_URL, post)

    assert response.status_code in (200, 302), response.status_code
    assert_escaped(response.content)
    if response.status_code == 200:
        after = (Client.objects.count(), User.objects.count(), ClientEvent.objects.count())
        assert after == before, "a rejected post wrote rows"
        return
    client = Client.objects.order_by("-pk").first()
    assert client.reseller_id == petr_browser_reseller(petr_browser)
    assert_escaped(petr_browser.get(response["Location"]).content)
    # The "client created" email: no line break may reach a header.
    mail.outbox.clear()
    for delivery in Delivery.objects.order_by("pk")[deliveries_before:]:
        delivery_send(delivery_id=delivery.pk)
    for message in mail.outbox:
        for header in (message.subject, *message.to, message.from_email):
            assert "\n" not in header and "\r" not in header
        message.message()  # Django refuses a header with a line break


def petr_browser_reseller(browser) -> int:
    from users.models import Manager

    user_id = int(browser.session["_auth_user_id"])
    return Manager.objects.get(user_id=user_id).reseller_id


LIST_PARAMS = [
    "q",
    "status",
    "client_type",
    "service_rule",
    "manager",
    "sort",
    "per_page",
    "page",
    "after",
    "before",
    "last",
]


@given(data=st.data())
def test_list_filters_and_export_survive_hostile_parameters(data, petr_browser, hostile_world):
    params: dict[str, object] = {}
    for name in data.draw(st.lists(st.sampled_from(LIST_PARAMS), min_size=1, max_size=6)):
        value = data.draw(
            st.one_of(hostile_text, st.sampled_from(hostile_world["foreign_ids"])).map(
                clean_surrogates
            )
        )
        params[name] = [params[name], value] if name in params else value
    url = data.draw(st.sampled_from([reverse("clients:list"), reverse("clients:export")]))
    response = petr_browser.get(url, params)
    assert response.status_code == 200
    content = b"".join(response.streaming_content) if response.streaming else response.content
    if url == reverse("clients:list"):
        assert_escaped(content)
    else:
        # The CSV holds only Пётр's reseller's clients: no foreign client leaks.
        assert b"\xd0\x9e\xd0\xb1\xd0\xbb\xd0\xb0\xd0\xba\xd0\xbe" not in content  # "Облако"


@given(query=hostile_text.map(clean_surrogates), key=st.sampled_from(["owner-query", "q"]))
def test_owner_search_survives_hostile_queries(query, key, petr_browser, hostile_world):
    response = petr_browser.get(reverse("clients:owner_search"), {key: query})
    assert response.status_code == 200
    assert_escaped(response.content)
    # Users of the root reseller's clients are out of Пётр's reach.
    assert b"irina@oblako.example" not in response.content
