"""An admin cannot point a reseller's autofill at an internal address.

The server posts to the autofill URL with the reseller's API key, so admin
refuses, at save time, anything but https to a public address: each address
the host resolves to is checked. DIRECTORY_ALLOW_PRIVATE_NETWORKS (on in
DEBUG) lets a developer use the local stub on http://127.0.0.1:8001.
"""

import socket

import pytest
from django.core.exceptions import ValidationError
from django.test import Client as HttpClient
from django.urls import reverse
from django.utils import timezone, translation

from tests.conftest import make_user
from users.models import Reseller

PUBLIC_ADDRESS = "93.184.215.14"  # a global address; nothing here connects to it


@pytest.fixture(autouse=True)
def english(settings):
    settings.LANGUAGE_CODE = "en"
    with translation.override("en"):
        yield


@pytest.fixture
def private_off(settings):
    settings.DIRECTORY_ALLOW_PRIVATE_NETWORKS = False


@pytest.fixture
def private_on(settings):
    settings.DIRECTORY_ALLOW_PRIVATE_NETWORKS = True


@pytest.fixture
def superuser_browser(db) -> HttpClient:
    user = make_user(email="root@example.com", is_staff=True, is_superuser=True)
    browser = HttpClient()
    browser.force_login(user)
    return browser


@pytest.fixture
def names(monkeypatch):
    """Host names of our own: ``names["directory.test"] = ["93.184.215.14"]``.
    Every other name resolves as usual."""
    table: dict[str, list[str]] = {}
    real = socket.getaddrinfo

    def getaddrinfo(host, port, *args, **kwargs):
        if host in table:
            return [
                (
                    socket.AF_INET6 if ":" in address else socket.AF_INET,
                    socket.SOCK_STREAM,
                    6,
                    "",
                    (address, port),
                )
                for address in table[host]
            ]
        return real(host, port, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    return table


def save_in_admin(browser: HttpClient, reseller: Reseller, url: str):
    """Post the reseller's admin page as an admin would, with this autofill URL."""
    created = timezone.localtime(reseller.created_at)
    return browser.post(
        reverse("admin:users_reseller_change", args=[reseller.pk]),
        {
            "name": reseller.name,
            "parent": reseller.parent_id,
            "created_at_0": created.strftime("%Y-%m-%d"),
            "created_at_1": created.strftime("%H:%M:%S"),
            "postpay_mode": reseller.postpay_mode,
            "default_country": "RU",
            "notification_language": "ru",
            "autofill_enabled": "on",
            "autofill_url": url,
            "autofill_api_key": "secret-key",
            "autofill_fields": ["company_name", "inn"],
            "managers-TOTAL_FORMS": "0",
            "managers-INITIAL_FORMS": "0",
            "managers-MIN_NUM_FORMS": "0",
            "managers-MAX_NUM_FORMS": "1000",
            "_save": "Save",
        },
    )


def field_errors(response) -> list[str]:
    return list(response.context["adminform"].form.errors.get("autofill_url", []))


HTTPS_NEEDED = (
    "The autofill service URL must start with https://: the API key must not travel in clear."
)


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        (
            "http://127.0.0.1:5432",
            [
                HTTPS_NEEDED,
                "The autofill service URL must lead to a public address: "
                "“127.0.0.1” is a loopback address.",
            ],
        ),
        (
            "http://169.254.169.254/latest/meta-data/",
            [
                HTTPS_NEEDED,
                "The autofill service URL must lead to a public address: "
                "“169.254.169.254” is a link-local address.",
            ],
        ),
        (
            "http://[::1]:6379",
            [
                HTTPS_NEEDED,
                "The autofill service URL must lead to a public address: "
                "“::1” is a loopback address.",
            ],
        ),
        ("ftp://files.example.com/", ["The autofill service URL must start with https://."]),
        (
            "https://localhost:8001",
            [
                "The autofill service URL must lead to a public address: "
                "“localhost” resolves to “127.0.0.1”, a loopback address."
            ],
        ),
        (
            "https://[::ffff:10.0.0.5]/",
            [
                "The autofill service URL must lead to a public address: "
                "“::ffff:10.0.0.5” is a private network address."
            ],
        ),
        (
            "https://0.0.0.0/",
            [
                "The autofill service URL must lead to a public address: "
                "“0.0.0.0” is an unspecified address."
            ],
        ),
        (
            "https://224.0.0.1/",
            [
                "The autofill service URL must lead to a public address: "
                "“224.0.0.1” is a multicast address."
            ],
        ),
    ],
)
def test_admin_refuses_an_internal_or_clear_text_autofill_url(
    superuser_browser, sub_reseller, private_off, url, expected
):
    response = save_in_admin(superuser_browser, sub_reseller, url)

    assert response.status_code == 200
    assert field_errors(response) == expected
    sub_reseller.refresh_from_db()
    assert (sub_reseller.autofill_enabled, sub_reseller.autofill_url) == (False, "")


def test_a_name_that_resolves_to_any_internal_address_is_refused(
    superuser_browser, sub_reseller, private_off, names
):
    # One public and one private answer: every address must be public.
    names["directory.example"] = [PUBLIC_ADDRESS, "10.1.2.3"]

    response = save_in_admin(superuser_browser, sub_reseller, "https://directory.example/")

    assert field_errors(response) == [
        "The autofill service URL must lead to a public address: "
        "“directory.example” resolves to “10.1.2.3”, a private network address."
    ]
    sub_reseller.refresh_from_db()
    assert sub_reseller.autofill_url == ""


def test_a_name_that_does_not_resolve_is_refused(
    superuser_browser, sub_reseller, private_off, names
):
    names["nowhere.example"] = []

    response = save_in_admin(superuser_browser, sub_reseller, "https://nowhere.example/")

    assert field_errors(response) == ["The host name “nowhere.example” cannot be resolved."]


def test_https_to_a_public_address_is_saved(superuser_browser, sub_reseller, private_off, names):
    names["suggestions.example"] = [PUBLIC_ADDRESS, "2a00:1450:4010:c05::64"]

    response = save_in_admin(superuser_browser, sub_reseller, "https://suggestions.example")

    assert response.status_code == 302
    sub_reseller.refresh_from_db()
    assert sub_reseller.autofill_url == "https://suggestions.example"


def test_http_to_a_public_address_is_refused_even_for_development(
    superuser_browser, sub_reseller, private_on, names
):
    names["suggestions.example"] = [PUBLIC_ADDRESS]

    response = save_in_admin(superuser_browser, sub_reseller, "http://suggestions.example")

    assert field_errors(response) == [HTTPS_NEEDED]


def test_the_local_stub_is_accepted_when_private_networks_are_allowed(
    superuser_browser, sub_reseller, private_on
):
    response = save_in_admin(superuser_browser, sub_reseller, "http://127.0.0.1:8001")

    assert response.status_code == 302
    sub_reseller.refresh_from_db()
    assert sub_reseller.autofill_url == "http://127.0.0.1:8001"


def test_the_model_refuses_it_too(sub_reseller, private_off):
    sub_reseller.autofill_enabled = True
    sub_reseller.autofill_url = "http://169.254.169.254/latest/meta-data/"

    with pytest.raises(ValidationError) as caught:
        sub_reseller.full_clean()

    assert "autofill_url" in caught.value.message_dict


def test_the_messages_read_in_russian_with_russian_quotes(sub_reseller, private_off):
    sub_reseller.autofill_url = "http://localhost:5432"

    with translation.override("ru"):
        with pytest.raises(ValidationError) as caught:
            sub_reseller.full_clean()
        messages = caught.value.message_dict["autofill_url"]

    assert messages == [
        "URL сервиса автозаполнения должен начинаться с https://: API-ключ нельзя "
        "передавать в открытом виде.",
        "URL сервиса автозаполнения должен вести на публичный адрес: «localhost» "
        "указывает на «127.0.0.1» — адрес обратной петли (loopback).",
    ]
