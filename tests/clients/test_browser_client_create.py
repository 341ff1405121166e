"""The Add client page end to end in Debian's headless Chromium: an operator
switches the type, copies the contract person, searches the owner with the
keyboard and creates the client; a double click creates one client."""

import re

import pytest
from django_tasks_db.models import DBTaskResult

from clients.models import AccessLevel, Client, EventType
from notifications.models import Delivery
from tests.browser import chromium_page
from tests.conftest import PASSWORD, VALID_INN, make_client, make_user

pytestmark = pytest.mark.browser


@pytest.fixture
def page(live_server, monkeypatch):
    with chromium_page(monkeypatch, language="en") as page:
        yield page


def sign_in(page, live_server, manager) -> None:
    page.goto(f"{live_server.url}/accounts/login/?next=/clients/create/")
    page.fill("input[name=username]", manager.user.email)
    page.fill("input[name=password]", PASSWORD)
    page.click("main button[type=submit]")
    page.wait_for_url(re.compile(r"/clients/create/$"))


def fill_contacts_and_contract_person(page) -> None:
    page.fill("#id_contacts-region", "Москва")
    page.fill("#id_contacts-city", "Москва")
    page.fill("#id_contacts-postal_code", "125009")
    page.fill("#id_contacts-address_line1", "ул. Тверская, 1")
    page.fill("#id_contacts-phone", "8 916 123-45-67")
    page.fill("#id_contacts-email", "office@romashka.example")
    page.fill("#id_contract_person-first_name", "Иван")
    page.fill("#id_contract_person-last_name", "Иванов")
    page.fill("#id_contract_person-middle_name", "Петрович")
    page.fill("#id_contract_person-email", "ivanov@romashka.example")


def test_an_operator_creates_a_company(
    page, live_server, petr, sub_reseller, sub_rules, client_created_handler
):
    known = make_user(email="anna.belova@example.com", first_name="Анна", last_name="Белова")
    earlier = make_client(reseller=sub_reseller, rules=sub_rules, owner=known)
    sign_in(page, live_server, petr)
    fill_contacts_and_contract_person(page)

    # The type switch swaps the company name and the extra parameters in
    # place; what was typed elsewhere stays.
    assert page.locator("#id_client_info-company_name").count() == 0
    page.select_option("#id_client_info-client_type", label="Юридическое лицо")
    page.locator("#id_client_info-company_name").wait_for()
    page.locator("#id_attributes-inn").wait_for()
    assert page.locator("#id_attributes-passport_series").count() == 0
    assert page.input_value("#id_contacts-city") == "Москва"
    page.fill("#id_client_info-company_name", "Ромашка")
    page.select_option("#id_client_info-manager", label=str(petr))
    page.fill("#id_attributes-inn", VALID_INN)

    # "Use the contract person's data" fills the new user's fields.
    page.click("text=Use the contract person's data")
    assert page.input_value("#id_owner-new_first_name") == "Иван"
    assert page.input_value("#id_owner-new_last_name") == "Иванов"
    assert page.input_value("#id_owner-new_middle_name") == "Петрович"
    assert page.input_value("#id_owner-new_email") == "ivanov@romashka.example"

    # Then the operator decides on an existing user, found with the keyboard.
    page.check("input[name='owner-mode'][value='existing']")
    search = page.locator("#id_owner-query")
    search.press_sequentially("бело", delay=30)
    option = page.locator(f"#owner-option-{known.pk}")
    option.wait_for()
    assert search.get_attribute("aria-expanded") == "true"
    search.press("ArrowDown")
    assert option.get_attribute("aria-selected") == "true"
    assert search.get_attribute("aria-activedescendant") == f"owner-option-{known.pk}"
    search.press("Enter")
    assert page.input_value("#id_owner-user") == str(known.pk)
    assert "Белова Анна" in page.inner_text("#owner-selected")
    assert page.url.endswith("/clients/create/")  # Enter chose, it did not submit

    page.click("#client-create-submit")
    page.wait_for_url(re.compile(r"/clients/\d+/$"))

    client = Client.objects.exclude(pk=earlier.pk).get()
    assert page.url.endswith(f"/clients/{client.pk}/")
    assert "The client Ромашка is created." in page.inner_text("main")
    assert (client.name, client.manager, client.phone) == ("Ромашка", petr, "+79161234567")
    assert client.attribute_values.get(attribute__key="inn").value == VALID_INN
    assert client.accesses.get(level=AccessLevel.OWNER).user == known
    # The "client created" email waits in the queue for the worker.
    delivery = Delivery.objects.get(client=client)
    assert (delivery.event, delivery.recipient) == (EventType.CLIENT_CREATED, known.email)
    assert DBTaskResult.objects.get(id=delivery.task_id).status == "READY"


def test_a_double_click_creates_one_client(page, live_server, petr, sub_rules):
    sign_in(page, live_server, petr)
    fill_contacts_and_contract_person(page)
    page.fill("#id_attributes-passport_series", "4510")
    page.fill("#id_attributes-passport_number", "123456")
    page.click("text=Use the contract person's data")
    page.dblclick("#client-create-submit")
    page.wait_for_url(re.compile(r"/clients/\d+/$"))
    page.wait_for_load_state("networkidle")

    client = Client.objects.get()
    assert page.url.endswith(f"/clients/{client.pk}/")
    assert Client.objects.count() == 1


def test_without_javascript_the_page_reloads_with_the_chosen_type(
    page, live_server, petr, sub_rules
):
    page.context.close()  # a context of its own, with scripting off
    context = page.context.browser.new_context(
        locale="en-US", extra_http_headers={"Accept-Language": "en"}, java_script_enabled=False
    )
    page = context.new_page()
    sign_in(page, live_server, petr)
    page.fill("#id_contacts-city", "Тверь")
    page.select_option("#id_client_info-client_type", label="Юридическое лицо")
    page.click("button[name=_apply_type]")
    page.locator("#id_client_info-company_name").wait_for()
    assert page.input_value("#id_contacts-city") == "Тверь"
    assert page.locator("#id_attributes-inn").count() == 1
    assert Client.objects.count() == 0
    context.close()
