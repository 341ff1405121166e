"""Add client POST runs the same number of queries however many clients and
users there are, and hashes no password (a new owner's is unusable)."""

from django.db import connection
from django.test.utils import CaptureQueriesContext

from tests.clients.test_client_create_page import CREATE_URL, page_data
from tests.conftest import make_client, make_user
from tests.pages import person


def post_new_client(browser, number: int) -> int:
    data = person(
        page_data(browser.get(CREATE_URL)),
        **{
            "owner-new_email": f"owner{number}@example.com",
            "contacts-email": f"client{number}@example.com",
        },
    )
    with CaptureQueriesContext(connection) as queries:
        response = browser.post(CREATE_URL, data)
    assert response.status_code == 302
    return len(queries)


def test_creating_costs_the_same_at_any_size(petr_browser, sub_reseller, sub_rules, monkeypatch):
    from django.contrib.auth import hashers

    def no_hashing(*args, **kwargs):
        raise AssertionError("a password was hashed while creating a client")

    first = post_new_client(petr_browser, 1)
    for _ in range(40):
        make_client(reseller=sub_reseller, rules=sub_rules, owner=make_user(password=None))
    monkeypatch.setattr(hashers, "make_password", no_hashing)
    monkeypatch.setattr(hashers.MD5PasswordHasher, "encode", no_hashing)
    assert post_new_client(petr_browser, 2) == first
