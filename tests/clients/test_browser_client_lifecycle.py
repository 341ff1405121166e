"""The client after creation, end to end in Debian's headless Chromium: an
operator edits a client (an error beside its field, fixed, saved, seen in the
event log; autofill on the edit page), transfers the ownership from the
client page's dialog, and an owner accepts the terms on the welcome
(password-setup) page. The screenshot of docs/operators.md
(docs/edit-client.png) is taken here."""

import re
from pathlib import Path

import pytest
from django.urls import reverse
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode

from clients import services
from clients.inputs import ClientInfo, Contacts, ContractPerson, NewOwner
from clients.models import AccessLevel, Client, ClientAccess, EventType, TermsStatus
from notifications.tokens import owner_invitation_token_generator
from tests.browser import chromium_page, page_screenshot
from tests.clients.test_autofill_browser import switch_on
from tests.conftest import PASSWORD, VALID_INN, make_client, make_user

pytestmark = pytest.mark.browser

SCREENSHOT = Path(__file__).resolve().parents[2] / "docs" / "edit-client.png"


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


def a_company(petr, rules) -> Client:
    return services.client_create(
        actor=petr,
        reseller=petr.reseller,
        client_info=ClientInfo(
            client_type=rules["company"],
            service_rule=rules["standard"],
            company_name="Ромашка",
            manager=petr,
        ),
        contacts=Contacts(
            country="RU",
            region="Москва",
            city="Москва",
            postal_code="125009",
            address_line1="ул. Тверская, 1",
            phone="+7 916 123-45-67",
            email="office@romashka.example",
        ),
        contract_person=ContractPerson(
            first_name="Иван", last_name="Иванов", email="ivanov@romashka.example"
        ),
        owner=NewOwner(first_name="Анна", last_name="Орлова", email="anna@romashka.example"),
        attributes={"inn": VALID_INN},
    )


@pytest.fixture
def russian_page(live_server, monkeypatch):
    """A page in Russian, the panel's default language (the screenshot's)."""
    with chromium_page(monkeypatch, language="ru") as page:
        yield page


# IDs from 1, so that the screenshot's "#1" does not depend on what ran before.
@pytest.mark.django_db(transaction=True, reset_sequences=True)
def test_an_operator_edits_a_client(russian_page, live_server, petr, sub_rules):
    page = russian_page
    client = a_company(petr, sub_rules)
    detail = reverse("clients:detail", args=[client.pk])
    sign_in(page, live_server, petr, detail)

    page.click("[data-testid=edit-client]")
    page.wait_for_url(re.compile(r"/edit/$"))
    assert page.input_value("#id_contacts-address_line1") == "ул. Тверская, 1"
    page.fill("#id_contacts-address_line1", "ул. Советская, 5")
    page.fill("#id_attributes-inn", "7707083890")  # a wrong checksum
    page.click("#client-edit-submit")
    page.wait_for_load_state()

    error = page.locator("#error_1_id_attributes-inn")
    error.wait_for()
    assert "ИНН" in error.inner_text()
    assert "is-invalid" in page.get_attribute("#id_attributes-inn", "class")
    # What was typed elsewhere stays; nothing is saved yet.
    assert page.input_value("#id_contacts-address_line1") == "ул. Советская, 5"
    client.refresh_from_db()
    assert client.address_line1 == "ул. Тверская, 1"
    page_screenshot(page, SCREENSHOT.name)

    page.fill("#id_attributes-inn", "7704943188")
    page.click("#client-edit-submit")
    page.wait_for_url(re.compile(re.escape(detail) + "#events$"))

    assert "Изменения сохранены." in page.inner_text("main")
    entry = page.locator(f"[data-event-type='{EventType.CLIENT_UPDATED}']")
    text = entry.inner_text()
    assert "Адрес: ул. Тверская, 1 → ул. Советская, 5" in text
    assert f"ИНН: {VALID_INN} → 7704943188" in text
    client.refresh_from_db()
    assert client.address_line1 == "ул. Советская, 5"
    assert client.attribute_values.get(attribute__key="inn").value == "7704943188"


@pytest.mark.usefixtures("empty_cache")
def test_autofill_works_on_the_edit_page(page, live_server, petr, sub_reseller, sub_rules, stub):
    switch_on(sub_reseller, stub.base_url)
    client = a_company(petr, sub_rules)
    path = reverse("clients:edit", args=[client.pk])
    sign_in(page, live_server, petr, path)

    name = page.locator("#id_client_info-company_name")
    name.fill("")
    name.press_sequentially("север", delay=40)
    page.locator("#autofill-company-results-option-1").wait_for()
    name.press("ArrowDown")
    name.press("Enter")
    assert page.input_value("#id_attributes-inn") == "7704943188"
    assert page.input_value("#id_contacts-postal_code") == "119019"
    page.click("#client-edit-submit")
    page.wait_for_url(re.compile(r"/clients/\d+/#events$"))

    client.refresh_from_db()
    assert client.company_name == "СЕВЕРНЫЙ ВЕТЕР"
    assert client.attribute_values.get(attribute__key="inn").value == "7704943188"


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
