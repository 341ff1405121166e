"""Look-alike letters at sign-in: "ſ" (long s) and "ı" (dotless i) upper-case
to S and I, so PostgreSQL's UPPER() once matched "ſasha.ivanov@…" and
"sasha.ıvanov@…" to sasha.ivanov@…, while django-axes counted them as other
accounts (Python's lower() keeps them). Now the look-up compares LOWER() of
both sides, as the unique constraint does, and the lockout counts the account
a spelling folds to: look-alikes neither sign in nor escape the lock."""

import datetime as dt

import pytest
from django.core.exceptions import ValidationError
from django.test import Client as HttpClient
from django.urls import reverse

from clients.models import Client
from tests.conftest import PASSWORD, make_manager, make_user

LOGIN_URL = reverse("login")
SASHA = "sasha.ivanov@partner.example"
LONG_S = "ſasha.ivanov@partner.example"  # U+017F LATIN SMALL LETTER LONG S
DOTLESS_I = "sasha.ıvanov@partner.example"  # U+0131 LATIN SMALL LETTER DOTLESS I
LOOK_ALIKES = pytest.mark.parametrize(
    "look_alike", [LONG_S, DOTLESS_I], ids=["long_s", "dotless_i"]
)


@pytest.fixture(autouse=True)
def low_limit(settings):
    settings.AXES_FAILURE_LIMIT = 3
    settings.AXES_COOLOFF_TIME = dt.timedelta(minutes=15)


@pytest.fixture
def sasha(sub_reseller):
    return make_manager(reseller=sub_reseller, email=SASHA, first_name="Саша", last_name="Иванов")


def attempt(email: str, password: str, address: str):
    browser = HttpClient(REMOTE_ADDR=address)
    return browser, browser.post(LOGIN_URL, {"username": email, "password": password})


def lock_by_plain_failures() -> None:
    for number in range(3):
        attempt(SASHA, "wrong", f"10.20.0.{number}")


@LOOK_ALIKES
def test_a_look_alike_with_the_right_password_is_refused_once_the_account_is_locked(
    sasha, look_alike
):
    lock_by_plain_failures()

    browser, response = attempt(look_alike, PASSWORD, "10.20.1.1")

    assert response.status_code == 429
    assert "_auth_user_id" not in browser.session


def test_failures_with_look_alikes_count_toward_the_accounts_lock(sasha):
    attempt(LONG_S, "wrong", "10.21.0.1")
    attempt(DOTLESS_I, "wrong", "10.21.0.2")
    attempt(LONG_S.upper(), "wrong", "10.21.0.3")

    browser, response = attempt(SASHA, PASSWORD, "10.21.1.1")

    assert response.status_code == 429
    assert "_auth_user_id" not in browser.session


@LOOK_ALIKES
def test_a_look_alike_never_signs_in_to_the_account_it_imitates(sasha, look_alike):
    browser, response = attempt(look_alike, PASSWORD, "10.22.0.1")

    assert response.status_code == 200
    assert response.context["form"].non_field_errors()
    assert "_auth_user_id" not in browser.session
    # The account itself, in any letter case, still signs in.
    assert attempt(SASHA.upper(), PASSWORD, "10.22.0.2")[1].status_code == 302


def test_two_stored_look_alike_accounts_each_sign_in_to_their_own(sasha):
    """Made before logins were checked (create_user runs no field validators):
    each spelling finds its own account; UPPER() found both, and the sign-in
    failed with a server error."""
    other = make_manager(reseller=sasha.reseller, email=LONG_S, password="another-passphrase-1")

    browser, response = attempt(SASHA, PASSWORD, "10.23.0.1")
    assert response.status_code == 302
    assert browser.session["_auth_user_id"] == str(sasha.user.pk)
    browser, response = attempt(LONG_S, "another-passphrase-1", "10.23.0.2")
    assert response.status_code == 302
    assert browser.session["_auth_user_id"] == str(other.user.pk)


def test_the_lockout_key_folds_look_alikes_and_case():
    from users.backends import login_key

    for spelling in [SASHA, SASHA.upper(), LONG_S, DOTLESS_I, "ＳＡＳＨＡ.ivanov@partner.example"]:
        assert login_key(spelling) == SASHA, spelling


# Where the panel creates logins ---------------------------------------------------------


@LOOK_ALIKES
def test_the_add_client_service_refuses_a_new_owner_with_a_look_alike_email(
    petr, sub_rules, look_alike
):
    from clients.inputs import NewOwner
    from tests.clients.test_client_create_service import arguments, client_create, written

    before = written()
    new_owner = NewOwner(first_name="Саша", last_name="Иванов", email=look_alike)
    with pytest.raises(ValidationError) as caught:
        client_create(actor=petr, **arguments(sub_rules, owner=new_owner))

    assert caught.value.message_dict["owner.new_email"] == [
        "До «@» используйте только латинские буквы, цифры и знаки препинания."
    ]
    assert written() == before


@LOOK_ALIKES
def test_admin_refuses_a_user_with_a_look_alike_email(look_alike, db):
    admin = make_user(email="root@example.com", is_staff=True, is_superuser=True)
    browser = HttpClient()
    browser.force_login(admin)
    users = type(admin).objects.count()

    response = browser.post(
        reverse("admin:users_user_add"),
        {
            "email": look_alike,
            "first_name": "Саша",
            "last_name": "Иванов",
            "password1": "a-long-passphrase-2026",
            "password2": "a-long-passphrase-2026",
            "usable_password": "true",
        },
        HTTP_ACCEPT_LANGUAGE="en",
    )

    assert response.status_code == 200
    assert "Use only Latin letters, digits and punctuation before “@”." in response.text
    assert type(admin).objects.count() == users
    assert Client.objects.count() == 0
