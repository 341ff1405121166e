"""Two simultaneous submits of the same Add client page, against PostgreSQL
in real transactions, each in its own thread and database connection: one
client, and both answers lead to it (the double-submit rule). Each test forces
one interleaving of the two requests, so that it happens every time."""

import copy
import threading
import time
from collections.abc import Callable

import pytest
from django.db import connection
from django.test import Client as HttpClient
from django.urls import reverse

from clients import selectors, services
from clients.forms.page import ClientCreatePage
from clients.models import Client
from tests.clients.test_client_create_page import CREATE_URL, page_data
from tests.pages import person
from users.models import User

pytestmark = [
    pytest.mark.skipif(
        connection.vendor != "postgresql", reason="PostgreSQL: two transactions in parallel"
    ),
    pytest.mark.django_db(transaction=True),
]
WAIT = 10  # seconds; a test that waits this long has failed


def post_twice(browser: HttpClient, data: dict) -> dict[str, object]:
    """Post `data` from threads "first" and "second" at once, each with its own
    copy of the browser (the same session); their answers by thread name."""
    answers: dict[str, object] = {}

    def post(name: str) -> None:
        twin = HttpClient()
        twin.cookies = copy.deepcopy(browser.cookies)
        try:
            answers[name] = twin.post(CREATE_URL, data)
        except Exception as error:  # reported below, not lost in the thread
            answers[name] = error
        finally:
            connection.close()  # the thread's own connection, before the test database goes

    threads = [
        threading.Thread(target=post, args=(name,), name=name) for name in ("first", "second")
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(WAIT * 3)
    assert not any(thread.is_alive() for thread in threads)
    return answers


def in_thread(name: str, before: Callable[[], None], original: Callable) -> Callable:
    """`original`, preceded by `before()` when called from thread `name`."""

    def wrapper(*args, **kwargs):
        if threading.current_thread().name == name:
            before()
        return original(*args, **kwargs)

    return wrapper


def wait(event: threading.Event) -> None:
    assert event.wait(WAIT), "the other request never got there"


def first_creates_after(monkeypatch, go: threading.Event, done: threading.Event) -> None:
    """Thread "first" calls the service only once `go` is set, and sets
    `done` when the service has returned (committed) or failed."""
    original_create = services.client_create

    def first_create(**kwargs):
        if threading.current_thread().name == "first":
            wait(go)
            try:
                return original_create(**kwargs)
            finally:
                done.set()
        return original_create(**kwargs)

    monkeypatch.setattr(services, "client_create", first_create)


def assert_both_lead_to_the_one_client(answers: dict[str, object], email: str) -> None:
    client = Client.objects.get()
    where = reverse("clients:detail", args=[client.pk])
    for name, answer in answers.items():
        assert not isinstance(answer, Exception), (name, answer)
        assert (answer.status_code, answer.get("Location")) == (302, where), (
            name,
            answer.status_code,
            answer.content[:2000] if answer.status_code == 200 else b"",
        )
    assert User.objects.filter(email__iexact=email).count() == 1


@pytest.fixture
def page(petr_browser, sub_rules, client_created_handler) -> dict:
    return person(
        page_data(petr_browser.get(CREATE_URL)), **{"owner-new_email": "race@example.com"}
    )


def test_a_page_validated_after_the_other_submit_committed(petr_browser, page, monkeypatch):
    """The second submit reads its page while the first creates, and reaches
    the service after the first committed (the new owner's email is taken by
    then). It leads to the first's client, not to an error beside the email."""
    second_looked, first_done = threading.Event(), threading.Event()

    def second_waits() -> None:
        second_looked.set()
        wait(first_done)

    monkeypatch.setattr(
        ClientCreatePage,
        "is_valid",
        in_thread("second", second_waits, ClientCreatePage.is_valid),
    )
    first_creates_after(monkeypatch, second_looked, first_done)

    assert_both_lead_to_the_one_client(post_twice(petr_browser, page), "race@example.com")


def test_the_service_validates_after_the_other_submit_committed(petr_browser, page, monkeypatch):
    """Both pages pass their checks; the second's service looks for the page's
    client before the first commits and checks the owner's email after."""
    second_in_service, first_done = threading.Event(), threading.Event()

    def second_waits() -> None:
        second_in_service.set()
        wait(first_done)

    monkeypatch.setattr(
        selectors,
        "new_owner_email_problem",
        in_thread("second", second_waits, selectors.new_owner_email_problem),
    )
    first_creates_after(monkeypatch, second_in_service, first_done)

    assert_both_lead_to_the_one_client(post_twice(petr_browser, page), "race@example.com")


def test_both_inserts_meet_at_the_unique_token(petr_browser, page, monkeypatch):
    """Both submits pass every check before either commits: the second's
    insert waits on the first's uncommitted token, fails when it commits, and
    then finds the first's client."""
    first_inserted = threading.Event()

    def first_holds_its_transaction() -> None:
        # The first has written its client but not committed: hold on until the
        # second's insert of the same token waits on it.
        first_inserted.set()
        deadline = time.monotonic() + WAIT
        with connection.cursor() as cursor:
            while time.monotonic() < deadline:
                cursor.execute("SELECT count(*) FROM pg_locks WHERE NOT granted")
                if cursor.fetchone()[0]:
                    return
                time.sleep(0.02)
        raise AssertionError("the second insert never waited on the first")

    monkeypatch.setattr(
        services.create,
        "client_event_record",
        in_thread("first", first_holds_its_transaction, services.client_event_record),
    )
    monkeypatch.setattr(
        ClientCreatePage,
        "is_valid",
        in_thread("second", lambda: wait(first_inserted), ClientCreatePage.is_valid),
    )

    assert_both_lead_to_the_one_client(post_twice(petr_browser, page), "race@example.com")
