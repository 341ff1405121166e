"""How many steps a company client with autofill takes on the Add client page,
counted in Debian's headless Chromium: choose the type, type part of the
name, pick the company, the phone, the contract person's email, Create (six;
eight before the owner and the contacts email followed the contract person).
The owner follows the contract person only while nobody has typed there."""

import re

import pytest

from clients.models import AccessLevel, Client
from tests.browser import chromium_page
from tests.clients.test_autofill_browser import switch_on
from tests.clients.test_browser_client_create import sign_in
from users.models import User

pytestmark = [pytest.mark.browser, pytest.mark.usefixtures("empty_cache")]

COMPANY_INTERACTIONS = 6
OWNER_FIELDS = {
    "#id_owner-new_first_name": "#id_contract_person-first_name",
    "#id_owner-new_last_name": "#id_contract_person-last_name",
    "#id_owner-new_middle_name": "#id_contract_person-middle_name",
    "#id_owner-new_email": "#id_contract_person-email",
}


class Operator:
    """The page as the operator uses it, counting each step: a choice in a
    select, typing into one field, a click."""

    def __init__(self, page) -> None:
        self.page = page
        self.steps: list[str] = []

    def choose(self, selector: str, label: str) -> None:
        self.steps.append(f"choose {label}")
        self.page.select_option(selector, label=label)

    def type(self, selector: str, text: str) -> None:
        self.steps.append(f"type {selector}")
        self.page.locator(selector).press_sequentially(text, delay=20)

    def click(self, selector: str) -> None:
        self.steps.append(f"click {selector}")
        self.page.click(selector)


@pytest.fixture
def page(live_server, monkeypatch):
    with chromium_page(monkeypatch, language="en") as page:
        yield page


def pick_the_company(operator: Operator) -> None:
    operator.choose("#id_client_info-client_type", "Юридическое лицо")
    operator.page.locator("#id_client_info-company_name").wait_for()
    operator.type("#id_client_info-company_name", "север")
    operator.page.locator("#autofill-company-results-option-1").wait_for()
    operator.click("#autofill-company-results-option-1")
    operator.page.locator("#id_contract_person-last_name.is-autofilled").wait_for()


def test_a_company_with_autofill_takes_six_steps(
    page, live_server, petr, sub_reseller, sub_rules, stub, client_created_handler
):
    switch_on(sub_reseller, stub.base_url)
    sign_in(page, live_server, petr)
    operator = Operator(page)

    pick_the_company(operator)
    # The owner (a new user) is the contract person, shown and editable.
    for owner, contract in OWNER_FIELDS.items():
        assert page.input_value(owner) == page.input_value(contract), owner
    assert page.input_value("#id_owner-new_last_name") == "Белов"
    assert page.locator("[data-testid=owner-follows-note]").is_visible()
    operator.type("#id_contacts-phone", "8 495 123-45-67")
    operator.type("#id_contract_person-email", "belov@veter.example")
    # The email follows into the owner and into the empty contacts email.
    assert page.input_value("#id_owner-new_email") == "belov@veter.example"
    assert page.input_value("#id_contacts-email") == "belov@veter.example"
    operator.click("#client-create-submit")
    page.wait_for_url(re.compile(r"/clients/\d+/$"))

    assert len(operator.steps) == COMPANY_INTERACTIONS, operator.steps
    client = Client.objects.get()
    assert (client.name, client.email, client.contract_email) == (
        "СЕВЕРНЫЙ ВЕТЕР",
        "belov@veter.example",
        "belov@veter.example",
    )
    owner = client.accesses.get(level=AccessLevel.OWNER).user
    assert (owner.last_name, owner.first_name, owner.middle_name, owner.email) == (
        "Белов",
        "Андрей",
        "Петрович",
        "belov@veter.example",
    )


def test_the_owner_stops_following_once_edited(
    page, live_server, petr, sub_reseller, sub_rules, stub, client_created_handler
):
    switch_on(sub_reseller, stub.base_url)
    sign_in(page, live_server, petr)
    operator = Operator(page)
    operator.type("#id_contacts-email", "office@veter.example")
    pick_the_company(operator)
    assert page.input_value("#id_owner-new_first_name") == "Андрей"

    # The operator makes someone else the owner: the contract person's later
    # changes no longer reach the owner, and a typed contacts email stays.
    page.fill("#id_owner-new_first_name", "Мария")
    page.fill("#id_owner-new_last_name", "Белова")
    page.fill("#id_owner-new_middle_name", "")
    page.fill("#id_owner-new_email", "maria@veter.example")
    assert not page.locator("[data-testid=owner-follows-note]").is_visible()
    page.fill("#id_contract_person-first_name", "Андрей")
    page.fill("#id_contract_person-email", "belov@veter.example")
    page.fill("#id_contract_person-last_name", "Белов-Северный")
    page.fill("#id_contacts-phone", "8 495 123-45-67")
    assert page.input_value("#id_owner-new_last_name") == "Белова"
    assert page.input_value("#id_owner-new_email") == "maria@veter.example"
    assert page.input_value("#id_contacts-email") == "office@veter.example"
    # The button still copies, on request.
    page.click(".js-copy-contract")
    assert page.input_value("#id_owner-new_last_name") == "Белов-Северный"
    page.fill("#id_owner-new_email", "maria@veter.example")
    page.click("#client-create-submit")
    page.wait_for_url(re.compile(r"/clients/\d+/$"))

    owner = Client.objects.get().accesses.get(level=AccessLevel.OWNER).user
    assert (owner.last_name, owner.email) == ("Белов-Северный", "maria@veter.example")


def test_what_the_operator_typed_into_the_owner_is_kept(
    page, live_server, petr, sub_reseller, sub_rules, stub
):
    switch_on(sub_reseller, stub.base_url)
    sign_in(page, live_server, petr)
    operator = Operator(page)
    operator.type("#id_owner-new_first_name", "Мария")
    pick_the_company(operator)

    assert page.input_value("#id_owner-new_first_name") == "Мария"
    assert page.input_value("#id_owner-new_last_name") == ""  # nothing mixed in
    assert not page.locator("[data-testid=owner-follows-note]").is_visible()


def test_an_existing_owner_is_not_replaced(page, live_server, petr, sub_reseller, sub_rules, stub):
    switch_on(sub_reseller, stub.base_url)
    sign_in(page, live_server, petr)
    page.check("input[name='owner-mode'][value='existing']")
    pick_the_company(Operator(page))

    assert page.locator("input[name='owner-mode'][value='existing']").is_checked()
    assert page.input_value("#id_owner-new_last_name") == ""


def test_after_an_error_the_owner_still_follows(
    page, live_server, petr, sub_reseller, sub_rules, stub, client_created_handler
):
    switch_on(sub_reseller, stub.base_url)
    sign_in(page, live_server, petr)
    operator = Operator(page)
    pick_the_company(operator)
    operator.type("#id_contract_person-email", "belov@veter.example")
    operator.click("#client-create-submit")  # no phone yet
    page.locator("#error-summary").wait_for()
    assert not User.objects.filter(email="belov@veter.example").exists()

    page.fill("#id_contract_person-email", "andrey.belov@veter.example")
    assert page.input_value("#id_owner-new_email") == "andrey.belov@veter.example"
    assert page.input_value("#id_contacts-email") == "andrey.belov@veter.example"
    page.fill("#id_contacts-phone", "8 495 123-45-67")
    page.click("#client-create-submit")
    page.wait_for_url(re.compile(r"/clients/\d+/$"))
    owner = Client.objects.get().accesses.get(level=AccessLevel.OWNER).user
    assert owner.email == "andrey.belov@veter.example"
