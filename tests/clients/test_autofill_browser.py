"""Autofill on the Add client page end to end, in Debian's headless Chromium
and in Russian, the panel's default language: an operator types part of a
company name, picks a suggestion with the keyboard, sees the fields filled
and creates the client; with the directory stopped the page still creates
one. The screenshot of docs/operators.md (docs/add-client.png) is taken here."""

import re
from pathlib import Path

import pytest

from clients.models import Client
from tests.browser import chromium_page, page_screenshot
from tests.clients.test_browser_client_create import sign_in
from users.models import AutofillField

pytestmark = [pytest.mark.browser, pytest.mark.usefixtures("empty_cache")]

SCREENSHOT = Path(__file__).resolve().parents[2] / "docs" / "add-client.png"
COMPANY_NAME = "#id_client_info-company_name"
COMPANY_LIST = "#autofill-company-results"
FILLED = {
    COMPANY_NAME: "СЕВЕРНЫЙ ВЕТЕР",  # the installation forbids "ООО"
    "#id_attributes-inn": "7704943188",
    "#id_attributes-kpp": "770401001",
    "#id_attributes-ogrn": "1177746123455",
    "#id_contacts-country": "RU",
    "#id_contacts-region": "г Москва",
    "#id_contacts-city": "г Москва",
    "#id_contacts-postal_code": "119019",
    "#id_contacts-address_line1": "ул Волхонка, д 99, стр 2, офис 301",
    "#id_contract_person-last_name": "Белов",
    "#id_contract_person-first_name": "Андрей",
    "#id_contract_person-middle_name": "Петрович",
}


@pytest.fixture
def page(live_server, monkeypatch):
    """A page in Russian: no language switch, the browser asks for ru-RU."""
    with chromium_page(monkeypatch, language="ru") as page:
        yield page


def switch_on(reseller, url: str) -> None:
    reseller.autofill_enabled = True
    reseller.autofill_url = url
    reseller.autofill_api_key = "browser-test-key"
    reseller.autofill_fields = list(AutofillField.values)
    reseller.save()


def choose_company_type(page) -> None:
    page.select_option("#id_client_info-client_type", label="Юридическое лицо")
    page.locator(COMPANY_NAME).wait_for()
    page.locator("#id_attributes-inn").wait_for()


def fill_the_rest(page) -> None:
    page.fill("#id_contacts-phone", "8 495 123-45-67")
    page.fill("#id_contacts-email", "office@veter.example")
    page.fill("#id_contract_person-email", "belov@veter.example")
    page.click(".js-copy-contract")  # the owner: a new user, the contract person


def test_an_operator_picks_a_company_from_the_directory(
    page, live_server, petr, sub_reseller, sub_rules, stub, client_created_handler
):
    switch_on(sub_reseller, stub.base_url)
    sign_in(page, live_server, petr)
    choose_company_type(page)
    assert page.locator("html").get_attribute("lang") == "ru"

    name = page.locator(COMPANY_NAME)
    name.press_sequentially("север", delay=40)
    first = page.locator("#autofill-company-results-option-1")
    first.wait_for()
    assert name.get_attribute("aria-expanded") == "true"
    options = page.locator(f"{COMPANY_LIST} [role=option]")
    assert options.count() == 3
    assert 'ООО "СЕВЕРНЫЙ ВЕТЕР"' in first.inner_text()
    assert "7704943188" in first.inner_text()
    assert "ул Волхонка" in first.inner_text()
    # СЕВЕРНОЕ СИЯНИЕ is being wound up: the warning says so in Russian.
    assert "В процессе ликвидации" in options.nth(2).locator(".badge").inner_text()

    # Escape closes the list, typing opens it again; ↓ and Enter choose.
    name.press("Escape")
    assert options.count() == 0
    assert name.get_attribute("aria-expanded") == "false"
    name.press("Backspace")
    name.press_sequentially("р", delay=40)
    first.wait_for()
    name.press("ArrowDown")
    assert first.get_attribute("aria-selected") == "true"
    assert name.get_attribute("aria-activedescendant") == "autofill-company-results-option-1"
    name.press("Enter")

    assert page.url.endswith("/clients/create/")  # Enter chose, it did not submit
    assert options.count() == 0
    for selector, value in FILLED.items():
        assert page.input_value(selector) == value, selector
    page.wait_for_timeout(500)  # no late answer reopens the list over the choice
    assert options.count() == 0

    # Every filled field stays editable.
    page.fill("#id_contacts-postal_code", "119020")
    fill_the_rest(page)

    # The screenshot for docs/operators.md: all filled, the list open once more.
    name.press("End")
    name.press("Backspace")
    name.press_sequentially("Р", delay=40)
    first.wait_for()
    page_screenshot(page, SCREENSHOT.name)
    name.press("Escape")
    assert page.input_value(COMPANY_NAME) == "СЕВЕРНЫЙ ВЕТЕР"

    page.click("#client-create-submit")
    page.wait_for_url(re.compile(r"/clients/\d+/$"))

    client = Client.objects.get()
    assert (client.name, client.city, client.postal_code) == (
        "СЕВЕРНЫЙ ВЕТЕР",
        "г Москва",
        "119020",
    )
    assert (client.contract_last_name, client.contract_first_name) == ("Белов", "Андрей")
    stored = dict(client.attribute_values.values_list("attribute__key", "value"))
    assert (stored["inn"], stored["kpp"], stored["ogrn"]) == (
        "7704943188",
        "770401001",
        "1177746123455",
    )


def test_with_the_directory_stopped_the_page_still_creates_a_client(
    page, live_server, petr, sub_reseller, sub_rules, stub
):
    switch_on(sub_reseller, stub.base_url)
    stub.shutdown()
    stub.server_close()  # the port is closed now: the directory is down
    sign_in(page, live_server, petr)
    choose_company_type(page)

    name = page.locator(COMPANY_NAME)
    name.press_sequentially("Северный ветер", delay=20)
    note = page.locator(f"{COMPANY_LIST} [data-autofill-unavailable]")
    note.wait_for()
    assert note.inner_text().strip()
    assert page.input_value(COMPANY_NAME) == "Северный ветер"  # typing was never held up

    page.fill("#id_attributes-inn", "7704943188")
    page.fill("#id_contacts-region", "Москва")
    page.fill("#id_contacts-city", "Москва")
    page.fill("#id_contacts-address_line1", "ул. Волхонка, 99")
    page.fill("#id_contract_person-first_name", "Андрей")
    page.fill("#id_contract_person-last_name", "Белов")
    fill_the_rest(page)
    page.click("#client-create-submit")
    page.wait_for_url(re.compile(r"/clients/\d+/$"))

    client = Client.objects.get()
    assert client.name == "Северный ветер"
    assert client.attribute_values.get(attribute__key="inn").value == "7704943188"


def test_without_autofill_the_page_asks_nothing(page, live_server, petr, sub_reseller, sub_rules):
    asked = []
    page.on("request", lambda request: asked.append(request.url))
    sign_in(page, live_server, petr)
    choose_company_type(page)

    page.locator(COMPANY_NAME).press_sequentially("северный", delay=20)
    page.fill("#id_attributes-inn", "7704943188")
    page.wait_for_timeout(600)

    assert page.locator(COMPANY_LIST).count() == 0
    assert not [url for url in asked if "/create/autofill/" in url]
