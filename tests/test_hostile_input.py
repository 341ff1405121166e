"""Hostile input (hypothesis): the Add client page, the list's filters and
export, and the owner search get generated values — markup and script
payloads, SQL fragments, 100 kB strings, control characters and NUL bytes,
malformed numbers and dates, IDs of other resellers' objects, missing and
duplicated fields. Never a 500, nothing written by a rejected post, every
echoed value escaped, no line break in an email header.

Round 2 (the attacker's probe): the list's cursors as generated base64 JSON
of every type for every sort key; every text field of the Add client page
one to fifty characters over its column, or with an invisible,
direction-changing or control character inside; a new owner's email that
looks like a taken one (ſ, ı, fullwidth letters, the Kelvin sign K, letter
case). Never a 500, a refused value is an error beside its field with nothing
saved, and no second account for a look-alike of a taken email.

Profiles (tests/conftest.py): HYPOTHESIS_PROFILE=ci (default, 40 examples
per test) or full (1,450 per test, 10,150 in all).
"""

import base64
import json
import re
import unicodedata
import uuid

import pytest
from django.core import mail
from django.urls import reverse
from hypothesis import given
from hypothesis import strategies as st

from clients.forms.sections import OWNER_QUERY_MAX_LENGTH
from clients.models import Client, ClientEvent
from clients.selectors import CLIENT_LIST_SORTS, client_list_cursor
from notifications.models import Delivery
from notifications.tasks import delivery_send
from tests.clients.test_client_create_limits import PAGE_FIELDS
from tests.clients.test_client_create_page import CREATE_URL, page_data
from tests.conftest import make_client, make_user
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


# Round 2: the attacker's probe ----------------------------------------------------------

EVERY_SORT = [*CLIENT_LIST_SORTS, *(f"-{key}" for key in CLIENT_LIST_SORTS)]
IGNORED_NOTICE = 'data-testid="ignored-parameters"'
TIMES = [
    "2026-01-01T12:00:00+03:00",
    "2026-01-01T12:00:00.123456+00:00",
    "2026-01-01T12:00:00",
    "2026-01-01",
    "0001-01-01T00:00:00+14:00",
    "9999-12-31T23:59:59.999999-14:00",
    "2026-02-30T12:00:00+03:00",
    "2026-01-01T25:00:00Z",
    "2026-01-01T12:00:00+99:00",
    "2026-01-01T12:00:00\x00+03:00",
]
json_scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.integers(min_value=2**62, max_value=2**130) | st.integers(max_value=-(2**62)),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=30),  # NUL, surrogates, format characters
    st.text(alphabet="aя\x00\u202e", min_size=250, max_size=300),  # over a column
    st.sampled_from(TIMES),
)
json_values = st.recursive(
    json_scalars,
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=5), children, max_size=3)
    ),
    max_leaves=12,
)


def encode_cursor(value: object, *, ascii_only: bool) -> str:
    text = json.dumps(value, ensure_ascii=ascii_only, allow_nan=True)
    # A lone surrogate outside ASCII escapes cannot be UTF-8: it makes bytes
    # that are not, as a hand-made cursor may hold.
    raw = text.encode("utf-8", "surrogatepass")
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


@pytest.fixture
def listed_clients(sub_reseller, sub_rules, petr):
    """A few of Пётр's clients, with and without a manager, for the seek to read."""
    return [
        make_client(reseller=sub_reseller, rules=sub_rules, manager=manager)
        for manager in (petr, None, petr)
    ]


@given(data=st.data())
def test_list_cursors_of_every_type_never_fail(data, petr_browser, hostile_world, listed_clients):
    sort = data.draw(st.sampled_from(EVERY_SORT))
    width = len(CLIENT_LIST_SORTS[sort.removeprefix("-")]) + 1
    value = data.draw(
        st.one_of(
            json_values,
            # As wide as the sort's cursor, so that every value meets its column.
            st.lists(json_scalars, min_size=width, max_size=width),
            st.builds(
                lambda values, pk: [*values, pk],
                st.lists(json_scalars, min_size=width - 1, max_size=width - 1),
                st.integers(min_value=-5, max_value=2**64),
            ),
        )
    )
    cursor = encode_cursor(value, ascii_only=data.draw(st.booleans()))
    direction = data.draw(st.sampled_from(["after", "before"]))
    params = {"sort": sort, direction: cursor}

    response = petr_browser.get(reverse("clients:list"), params)

    assert response.status_code == 200
    assert_escaped(response.content)
    if client_list_cursor(cursor, sort=sort) is None:
        assert IGNORED_NOTICE in response.content.decode(), "a refused cursor is not reported"
    export = petr_browser.get(reverse("clients:export"), params)
    assert export.status_code == 200
    b"".join(export.streaming_content)


# Format and control characters, and the whitespace a value may keep around it.
hidden_characters = st.characters(categories=["Cf", "Cc", "Zl", "Zp"]) | st.sampled_from(
    list("\u115f\u1160\u3164\uffa0\u202e\u2066\u200b\ufeff\u00ad\U000e0041")
)
# Fields of the page a person may type into, as the over-long test knows them.
TYPED_FIELDS = {
    name: spec
    for name, spec in PAGE_FIELDS.items()
    if spec[2] == "person" and name != "owner-query"
}


@pytest.fixture
def person_page(petr_browser, sub_rules, client_created_handler) -> dict:
    """The Add client page filled with a valid private person, read once."""
    return person(page_data(petr_browser.get(CREATE_URL)))


def field_error_shown(html: str, name: str) -> bool:
    return re.search(rf'<div id="id_{re.escape(name)}_error" class="invalid-feedback">', html)


@given(data=st.data())
def test_over_long_and_hidden_characters_are_refused_beside_the_field(
    data, petr_browser, hostile_world, person_page
):
    name = data.draw(st.sampled_from(sorted(TYPED_FIELDS)))
    limit, make, _setup = TYPED_FIELDS[name]
    post = dict(person_page, creation_token=str(uuid.uuid4()))
    if data.draw(st.booleans()):
        # One to fifty characters over the column, of any visible kind.
        extra = data.draw(st.integers(min_value=1, max_value=50))
        post[name] = data.draw(
            st.one_of(
                st.just(make(limit + extra)),
                st.text(
                    st.characters(categories=["L", "N", "P", "S"]),
                    min_size=limit + extra,
                    max_size=limit + extra,
                ),
            )
        )
    else:
        # A character a reader cannot see, inside the value (the form strips
        # whitespace around it).
        text = post[name] or "Значение"
        position = data.draw(st.integers(min_value=1, max_value=len(text) - 1))
        character = data.draw(hidden_characters)
        if name == "attributes-passport_issued_by" and character in "\t\n\r":
            character = "\u2028"  # a multi-line text keeps tabs and line breaks
        post[name] = text[:position] + character + text[position:]
    post[name] = clean_surrogates(post[name])
    before = (Client.objects.count(), User.objects.count(), ClientEvent.objects.count())

    response = petr_browser.post(CREATE_URL, post)

    assert response.status_code == 200, (name, post[name][:40])
    assert (Client.objects.count(), User.objects.count(), ClientEvent.objects.count()) == before
    assert field_error_shown(response.content.decode(), name), (name, post[name][:40])


# Letters that read as, or fold to, ASCII ones: ſ (long s) and ı (dotless i) upper
# to S and I, the Kelvin sign lowers to k, fullwidth letters are ASCII under NFKC.
LOOK_ALIKES = {
    "s": ["\u017f", "S"],
    "i": ["\u0131", "I", "\u0130"],
    "k": ["\u212a", "K"],
    "a": ["\uff41", "A"],
    "e": ["\uff45", "E"],
    "m": ["\uff4d", "M"],
    "o": ["\uff4f", "O"],
    ".": ["\uff0e"],
    "@": ["\uff20"],
}
TAKEN_EMAILS = ["sasha.ivanov@partner.example", "kseniya.smirnova@oblako.example"]


def look_alike(email: str, choices: list[int | None]) -> str:
    letters = []
    for character, choice in zip(email, choices, strict=True):
        options = LOOK_ALIKES.get(character, [])
        letters.append(
            options[choice % len(options)] if options and choice is not None else character
        )
    return "".join(letters)


def skeleton(email: str) -> str:
    """An email as a reader (and a mail server) reads it: plain letters, one case."""
    plain = unicodedata.normalize("NFKC", email)
    return "".join(
        letter.upper() if len(letter.upper()) == 1 else letter for letter in plain
    ).lower()


@pytest.fixture
def taken_emails(sub_reseller, sub_rules, root_reseller, root_rules):
    """One taken email in Пётр's reach, one of another reseller's user."""
    reachable = make_user(email=TAKEN_EMAILS[0], password=None)
    make_client(reseller=sub_reseller, rules=sub_rules, owner=reachable)
    foreign = make_user(email=TAKEN_EMAILS[1], password=None)
    make_client(reseller=root_reseller, rules=root_rules, owner=foreign)


@given(data=st.data())
def test_look_alike_emails_never_make_a_second_account(
    data, petr_browser, hostile_world, person_page, taken_emails, settings
):
    settings.OWNER_EMAIL_CHECKS_PER_HOUR = 10**6  # the probe's limit is tested apart
    taken = data.draw(st.sampled_from(TAKEN_EMAILS))
    choices = data.draw(
        st.lists(st.none() | st.integers(0, 2), min_size=len(taken), max_size=len(taken))
    )
    email = look_alike(taken, choices)
    if data.draw(st.booleans()):  # and a hidden character somewhere
        position = data.draw(st.integers(min_value=0, max_value=len(email)))
        email = email[:position] + data.draw(hidden_characters) + email[position:]
    email = clean_surrogates(email)
    post = dict(person_page, creation_token=str(uuid.uuid4()))
    post["owner-new_email"] = email

    response = petr_browser.post(CREATE_URL, post)

    assert response.status_code in (200, 302), email
    skeletons = [skeleton(address) for address in User.objects.values_list("email", flat=True)]
    assert len(skeletons) == len(set(skeletons)), f"a second account for {email!r}"
    if response.status_code == 302:
        assert skeleton(email.strip()) not in {skeleton(address) for address in TAKEN_EMAILS}


@given(
    email=st.sampled_from(TAKEN_EMAILS).flatmap(
        lambda taken: st.lists(
            st.none() | st.integers(0, 2), min_size=len(taken), max_size=len(taken)
        ).map(lambda choices: look_alike(taken, choices))
    ),
    key=st.sampled_from(["owner-query", "q"]),
)
def test_owner_search_survives_look_alike_and_over_long_queries(
    email, key, petr_browser, hostile_world, taken_emails
):
    for query in (email, email * (OWNER_QUERY_MAX_LENGTH // len(email) + 2)):
        response = petr_browser.get(reverse("clients:owner_search"), {key: query})
        assert response.status_code == 200
        assert TAKEN_EMAILS[1].encode() not in response.content  # out of Пётр's reach
