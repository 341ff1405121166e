"""Sign-in protection (django-axes): failures lock an account or an address
for a while, and no answer tells whether an email has an account."""

import datetime as dt
import re
import time

import pytest
from django.test import Client as HttpClient
from django.urls import reverse

from tests.conftest import PASSWORD

LOGIN_URL = reverse("login")
CSRF_RE = re.compile(rb'(csrfmiddlewaretoken" value="|"X-CSRFToken": ")[^"]+')


def without_csrf(content: bytes) -> bytes:
    """The page with its per-browser CSRF tokens blanked."""
    return CSRF_RE.sub(rb"\1", content)


@pytest.fixture(autouse=True)
def low_limit(settings):
    settings.AXES_FAILURE_LIMIT = 3
    settings.AXES_COOLOFF_TIME = dt.timedelta(minutes=15)


def attempt(email: str, password: str, address: str = "10.0.0.1"):
    browser = HttpClient(REMOTE_ADDR=address)
    response = browser.post(LOGIN_URL, {"username": email, "password": password})
    return browser, response


def test_an_account_is_locked_after_the_limit_even_with_the_right_password(petr):
    for number in range(3):
        _, response = attempt("petr@partner.example", "wrong", address=f"10.0.1.{number}")
        assert response.status_code in (200, 429)
    browser, response = attempt("petr@partner.example", PASSWORD, address="10.0.2.1")
    assert response.status_code == 429
    assert "_auth_user_id" not in browser.session
    assert "Слишком много" in response.content.decode() or "Too many" in response.content.decode()


def test_the_account_count_ignores_the_letter_case(petr):
    for number, email in enumerate(["petr@partner.example", "PETR@partner.example", "Petr@X"]):
        attempt(email if "X" not in email else "Petr@partner.example", "wrong", f"10.0.3.{number}")
    _, response = attempt("petr@partner.example", PASSWORD, "10.0.4.1")
    assert response.status_code == 429


def test_an_address_is_locked_after_the_limit_whatever_the_accounts(petr):
    for number in range(3):
        attempt(f"nobody{number}@example.com", "wrong", address="10.0.5.5")
    _, response = attempt("petr@partner.example", PASSWORD, address="10.0.5.5")
    assert response.status_code == 429
    # Another address still signs in.
    _, response = attempt("petr@partner.example", PASSWORD, address="10.0.5.6")
    assert response.status_code == 302


def test_unknown_and_known_emails_are_locked_and_answered_alike(petr):
    answers = {}
    for email in ["petr@partner.example", "ghost@partner.example"]:
        first = [attempt(email, "wrong", f"10.0.6.{n}")[1] for n in range(3)]
        locked = attempt(email, "wrong", "10.0.7.1")[1]
        answers[email] = (
            [r.status_code for r in first],
            first[0].context["form"].errors.as_json() if first[0].context else "",
            locked.status_code,
            without_csrf(locked.content),
        )
    assert answers["petr@partner.example"] == answers["ghost@partner.example"]


def test_the_lock_ends_after_the_cooloff(settings, petr):
    settings.AXES_COOLOFF_TIME = dt.timedelta(seconds=1)
    for number in range(3):
        attempt("petr@partner.example", "wrong", f"10.0.8.{number}")
    assert attempt("petr@partner.example", PASSWORD, "10.0.9.1")[1].status_code == 429
    time.sleep(1.2)
    assert attempt("petr@partner.example", PASSWORD, "10.0.9.1")[1].status_code == 302


def test_inactive_manager_and_wrong_password_get_the_same_error(petr, oleg):
    _, wrong_password = attempt("petr@partner.example", "wrong", "10.0.10.1")
    _, inactive = attempt("oleg@partner.example", PASSWORD, "10.0.10.2")
    _, unknown = attempt("ghost@partner.example", PASSWORD, "10.0.10.3")
    errors = [r.context["form"].non_field_errors() for r in (wrong_password, inactive, unknown)]
    assert errors[0] == errors[1] == errors[2]
