"""The client after creation, end to end in Debian's headless Chromium: an
operator transfers the ownership from the client page's dialog, and an owner
accepts the terms on the welcome (password-setup) page."""

import re

import pytest
from django.urls import reverse
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode

from clients.models import AccessLevel, ClientAccess, EventType, TermsStatus
from notifications.tokens import owner_invitation_token_generator
from tests.browser import chromium_page
from tests.conftest import PASSWORD, make_client, make_user

pytestmark = pytest.mark.browser


@pytest.fixture
def page(live_server, monkeypatch):
    with chromium_page(monkeypatch, language="en") as page:
        yield page


def sign_in(page, live_server, manager, path: str) -> None:
    page.goto(f"{live_server.url}/accounts/login/?next={path}")
    page.fill("input[name=username]", manager.user.email)
    page.fill("input[name=password]", PASSWORD)
    page.click("main button[type=submit]")
    page.wait_for_url(re.compile(re.escape(path) + "$"))


def test_an_operator_transfers_the_ownership(page, live_server, petr, sub_reseller, sub_rules):
    owner = make_user(email="olga@client.example", first_name="Ольга", last_name="Орлова")
    maria = make_user(email="maria@client.example", first_name="Мария", last_name="Петрова")
    client = make_client(reseller=sub_reseller, rules=sub_rules, owner=owner, name="Ромашка")
    ClientAccess.objects.create(client=client, user=maria, level=AccessLevel.USER)
    path = reverse("clients:detail", args=[client.pk])
    sign_in(page, live_server, petr, path)

    row = page.locator("tr[data-user-email='maria@client.example']")
    row.locator("[data-testid=make-owner]").click()
    dialog = page.locator(f"#owner-modal-{maria.pk}")
    dialog.wait_for(state="visible")
    assert "Make Петрова Мария <maria@client.example> the owner of Ромашка?" in (
        dialog.inner_text()
    )
    dialog.locator("button[type=submit]").click()
    page.wait_for_url(re.compile(re.escape(path) + "#users$"))

    assert "Петрова Мария is now the owner; the previous owner is an Admin." in (
        page.inner_text("main")
    )
    assert page.locator("tr[data-user-email='maria@client.example']").get_attribute(
        "data-level"
    ) == (AccessLevel.OWNER)
    assert page.locator("tr[data-user-email='olga@client.example']").get_attribute(
        "data-level"
    ) == (AccessLevel.ADMIN)
    log = page.locator(f"[data-event-type='{EventType.OWNERSHIP_TRANSFERRED}']")
    assert "Ownership transferred: Орлова Ольга → Петрова Мария" in log.inner_text()
    assert client.accesses.get(level=AccessLevel.OWNER).user == maria


def test_an_owner_accepts_the_terms_on_the_welcome_page(
    page, live_server, petr, sub_reseller, sub_rules
):
    sub_reseller.terms_required = True
    sub_reseller.terms_url = "https://partner.example/terms"
    sub_reseller.save()
    owner = make_user(
        email="anna@client.example", password=None, first_name="Анна", last_name="Орлова"
    )
    client = make_client(
        reseller=sub_reseller,
        rules=sub_rules,
        owner=owner,
        name="Ромашка",
        terms_status=TermsStatus.PENDING,
    )
    welcome = reverse(
        "welcome:password_setup",
        kwargs={
            "uidb64": urlsafe_base64_encode(force_bytes(owner.pk)),
            "token": owner_invitation_token_generator.make_token(owner),
        },
    )

    page.goto(live_server.url + welcome)
    terms = page.locator("[data-testid=terms]")
    assert terms.locator("a[href='https://partner.example/terms']").count() == 1
    page.fill("#id_new_password1", "Tverskaya-street-1-kiosk")
    page.fill("#id_new_password2", "Tverskaya-street-1-kiosk")
    # Without the box: the page asks for it and sets no password.
    page.click("main button[type=submit]")
    assert "Accept the terms and conditions to go on." in page.inner_text("main")
    page.fill("#id_new_password1", "Tverskaya-street-1-kiosk")
    page.fill("#id_new_password2", "Tverskaya-street-1-kiosk")
    page.check(f"#id_accept_terms_{client.pk}")
    page.click("main button[type=submit]")
    page.wait_for_url(re.compile(r"/welcome/done/$"))
    assert "Your password is set" in page.inner_text("main")

    client.refresh_from_db()
    assert (client.terms_status, client.terms_accepted_by_owner) == (TermsStatus.ACCEPTED, owner)
    assert client.terms_accepted_from == "127.0.0.1"
    # The operator sees who accepted, and when, on the client page.
    page.context.clear_cookies()
    path = reverse("clients:detail", args=[client.pk])
    sign_in(page, live_server, petr, path)
    assert "Accepted by the owner Орлова Анна" in page.inner_text("[data-testid=terms-status]")
    log = page.locator(f"[data-event-type='{EventType.TERMS_ACCEPTED}']")
    assert "The owner Орлова Анна accepted the terms and conditions." in log.inner_text()
