"""Manager API tokens: stored as a hash, shown once, and refused once
revoked, expired, or when their manager is inactive."""

import datetime as dt
import hashlib
import io

import pytest
from django.core.management import call_command
from django.test import Client as HttpClient
from django.urls import reverse
from django.utils import timezone

from api.models import ApiToken, StorefrontLink
from api.services import api_token_create, api_token_revoke
from tests.api.conftest import ApiClient, codes, token_for
from tests.conftest import make_manager
from users.models import ManagerStatus

pytestmark = pytest.mark.django_db


def accounts_url(reseller) -> str:
    return f"/api/v3/resellers/{reseller.pk}/accounts"


def test_only_the_sha256_is_stored(irina):
    token, secret = api_token_create(manager=irina, name="Billing")
    assert secret.startswith("opk_") and len(secret) >= 4 + 43
    assert token.digest == hashlib.sha256(secret.encode()).hexdigest()
    assert secret not in {token.digest, token.hint, token.name}
    assert token.hint == secret[: len(token.hint)]


def test_a_valid_token_lists_and_is_marked_used(irina, root_reseller, root_rules):
    token, secret = api_token_create(manager=irina, name="Billing")
    assert ApiClient(secret).get(accounts_url(root_reseller)).status_code == 200
    token.refresh_from_db()
    first_use = token.last_used_at
    assert first_use is not None
    # Within the minute a second request writes nothing.
    ApiClient(secret).get(accounts_url(root_reseller))
    token.refresh_from_db()
    assert token.last_used_at == first_use
    ApiToken.objects.filter(pk=token.pk).update(last_used_at=first_use - dt.timedelta(minutes=2))
    ApiClient(secret).get(accounts_url(root_reseller))
    token.refresh_from_db()
    assert token.last_used_at > first_use - dt.timedelta(minutes=2)


@pytest.mark.parametrize("case", ["revoked", "expired", "inactive_manager", "inactive_user"])
def test_a_token_stops_working(case, root_reseller, root_rules):
    manager = make_manager(reseller=root_reseller)
    token, secret = api_token_create(manager=manager, name="t")
    if case == "revoked":
        api_token_revoke(token=token)
    elif case == "expired":
        ApiToken.objects.filter(pk=token.pk).update(expires_at=timezone.now())
    elif case == "inactive_manager":
        manager.status = ManagerStatus.INACTIVE
        manager.save()
    else:
        manager.user.is_active = False
        manager.user.save()
    response = ApiClient(secret).get(accounts_url(root_reseller))
    assert response.status_code == 401
    assert codes(response) == ["invalid_token"]
    assert response["WWW-Authenticate"]


@pytest.mark.parametrize("header", [None, "", "opk_not-a-real-token", "x" * 5000])
def test_missing_or_unknown_token_is_401(header, root_reseller):
    response = ApiClient(header).get(accounts_url(root_reseller))
    assert response.status_code == 401
    assert response["Content-Type"] == "application/vnd.api+json"
    assert codes(response)[0] in {"not_authenticated", "invalid_token"}


def test_management_command_prints_only_the_token(irina):
    out, err = io.StringIO(), io.StringIO()
    call_command(
        "api_token_create",
        "--email",
        "IRINA@oblako.example",
        "--name",
        "Setup",
        stdout=out,
        stderr=err,
    )
    secret = out.getvalue().strip()
    assert "\n" not in secret and secret.startswith("opk_")
    assert err.getvalue().strip() == f"reseller_id={irina.reseller_id}"
    token = ApiToken.objects.get(digest=hashlib.sha256(secret.encode()).hexdigest())
    assert (token.manager, token.name) == (irina, "Setup")


def test_management_command_refuses_unknown_and_inactive(oleg):
    from django.core.management.base import CommandError

    with pytest.raises(CommandError):
        call_command("api_token_create", "--email", "nobody@example.com", "--name", "x")
    with pytest.raises(CommandError):
        call_command("api_token_create", "--email", oleg.user.email, "--name", "x")
    assert not ApiToken.objects.exists()


def test_panel_page_creates_a_token_shown_once(petr, petr_browser):
    url = reverse("api_tokens:list")
    response = petr_browser.post(url, {"name": "Storefront", "expires_in_days": "30"})
    assert response.status_code == 302
    page = petr_browser.get(url)
    token = ApiToken.objects.get(manager=petr)
    secret = page.context["new_token"]["secret"]
    assert hashlib.sha256(secret.encode()).hexdigest() == token.digest
    assert secret in page.content.decode()
    assert page["Cache-Control"] == "no-store"
    assert token.expires_at is not None and token.name == "Storefront"
    again = petr_browser.get(url).content.decode()
    assert secret not in again and token.hint in again
    # It works.
    assert ApiClient(secret).get(accounts_url(petr.reseller)).status_code == 200


def test_panel_page_refuses_an_empty_name(petr, petr_browser):
    response = petr_browser.post(reverse("api_tokens:list"), {"name": "  "})
    assert response.status_code == 200
    assert response.context["form"].errors["name"]
    assert not ApiToken.objects.exists()


def test_panel_revokes_own_token_and_not_anothers(petr, petr_browser, irina):
    own, secret = api_token_create(manager=petr, name="mine")
    other, _ = api_token_create(manager=irina, name="hers")
    response = petr_browser.post(reverse("api_tokens:revoke", args=[other.pk]))
    assert response.status_code == 404
    other.refresh_from_db()
    assert other.revoked_at is None
    response = petr_browser.post(reverse("api_tokens:revoke", args=[own.pk]))
    assert response.status_code == 302
    own.refresh_from_db()
    assert own.revoked_at is not None
    assert ApiClient(secret).get(accounts_url(petr.reseller)).status_code == 401


def test_panel_page_lists_only_own_tokens_and_the_storefront_link(petr, petr_browser, irina):
    api_token_create(manager=irina, name="Irina's billing")
    StorefrontLink.objects.create(
        reseller=petr.reseller, link_template="https://store.example/?manager_key={manager_key}"
    )
    page = petr_browser.get(reverse("api_tokens:list")).content.decode()
    assert "Irina&#x27;s billing" not in page and "Irina's billing" not in page
    assert f"https://store.example/?manager_key={petr.key}" in page


def test_admin_creates_a_token_shown_once(irina, petr):
    irina.user.is_staff = irina.user.is_superuser = True
    irina.user.save()
    browser = HttpClient()
    browser.force_login(irina.user)
    response = browser.post(
        reverse("admin:api_apitoken_add"),
        {"manager": petr.pk, "name": "From admin", "expires_at_0": "", "expires_at_1": ""},
        follow=True,
    )
    assert response.status_code == 200
    token = ApiToken.objects.get(manager=petr)
    shown = [str(message) for message in response.context["messages"]]
    secret = next(text.split(": ")[-1] for text in shown if "opk_" in text)
    assert hashlib.sha256(secret.encode()).hexdigest() == token.digest
    assert token.created_by == irina.user


def test_token_for_helper_works(petr, petr_api):
    assert token_for(petr)
