"""Directory suggestions on the Add client page: the endpoint against a real
stand-in directory on loopback (the bundled stub, or pytest-httpserver where
the test must see every request), the values a choice fills, and the page
staying usable when the directory is off, dead or talking nonsense."""

import json
import socket
import threading
import time
from html.parser import HTMLParser

import pytest
from django.urls import reverse

from clients.directory_stub import load_parties
from rules.models import AccountValidationSettings
from tests.conftest import make_manager
from users.models import AutofillField, ManagerRole

pytestmark = pytest.mark.usefixtures("empty_cache")

SUGGEST_URL = reverse("clients:autofill_suggest")
CREATE_URL = reverse("clients:create")
API_KEY = "autofill-secret-key-0f3c9a"
SUGGEST_PATH = "/suggestions/api/4_1/rs/suggest/party"

NORTH_WIND = {
    "client_info-company_name": "СЕВЕРНЫЙ ВЕТЕР",  # the installation forbids "ООО"
    "attributes-inn": "7704943188",
    "attributes-kpp": "770401001",
    "attributes-ogrn": "1177746123455",
    "contacts-country": "RU",
    "contacts-region": "г Москва",
    "contacts-city": "г Москва",
    "contacts-postal_code": "119019",
    "contacts-address_line1": "ул Волхонка, д 99, стр 2, офис 301",
    "contract_person-last_name": "Белов",
    "contract_person-first_name": "Андрей",
    "contract_person-middle_name": "Петрович",
}


class Options(HTMLParser):
    """The suggestion list as a browser sees it: each option's attributes and text."""

    def __init__(self, html: str) -> None:
        super().__init__()
        self.options: list[dict] = []
        self.notes: list[str] = []
        self._current: dict | None = None
        self._depth = 0
        self.feed(html)

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "li":
            self._current = {"attrs": attrs, "text": ""}
            (self.options if attrs.get("role") == "option" else self.notes).append(self._current)

    def handle_endtag(self, tag):
        if tag == "li":
            self._current = None

    def handle_data(self, data):
        if self._current is not None:
            self._current["text"] += data

    def values(self, index: int = 0) -> dict[str, str]:
        return json.loads(self.options[index]["attrs"]["data-autofill-values"])

    def text(self, index: int) -> str:
        return " ".join(self.options[index]["text"].split())


def switch_on(reseller, url: str, fields=tuple(AutofillField.values)) -> None:
    reseller.autofill_enabled = True
    reseller.autofill_url = url
    reseller.autofill_api_key = API_KEY
    reseller.autofill_fields = list(fields)
    reseller.save()


@pytest.fixture
def autofill(sub_reseller, stub):
    switch_on(sub_reseller, stub.base_url)
    return sub_reseller


def suggest(browser, client_type, text: str, *, field: str = "client_info-company_name"):
    return browser.get(
        SUGGEST_URL,
        {"client_info-client_type": str(client_type.pk), field: text},
        HTTP_HX_REQUEST="true",
    )


def offers_suggestions(html: str) -> bool:
    """Whether rendered markup has a field that asks the directory, or its list."""
    return "data-autofill-listbox" in html or "autofill-results" in html


def closed_port_url() -> str:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}"


# Suggestions -------------------------------------------------------------------------


def test_three_characters_show_name_inn_and_address(autofill, petr_browser, sub_rules):
    response = suggest(petr_browser, sub_rules["company"], "сев")

    assert response.status_code == 200
    options = Options(response.content.decode())
    texts = [options.text(index) for index in range(len(options.options))]
    assert len(texts) == 3  # the head office, its branch and СЕВЕРНОЕ СИЯНИЕ
    assert 'ООО "СЕВЕРНЫЙ ВЕТЕР"' in texts[0]
    assert "7704943188" in texts[0] and "г Москва, ул Волхонка, д 99" in texts[0]
    assert texts[1].count("Филиал") == 1 and "165543001" in texts[1]  # the branch and its KPP
    assert options.options[0]["attrs"]["id"] == "autofill-company-results-option-1"
    assert all(option["attrs"]["aria-selected"] == "false" for option in options.options)


def test_fewer_than_three_characters_ask_nothing(sub_reseller, petr_browser, sub_rules, httpserver):
    switch_on(sub_reseller, httpserver.url_for("/"))

    for text in ("", "се", "  с  е ", "\x00\x00се"):
        response = suggest(petr_browser, sub_rules["company"], text)
        assert (response.status_code, response.content) == (200, b"")
    assert httpserver.log == []


def test_the_inn_field_suggests_by_number(autofill, petr_browser, sub_rules):
    response = suggest(petr_browser, sub_rules["company"], "770494", field="attributes-inn")

    options = Options(response.content.decode())
    assert [option["attrs"]["id"] for option in options.options] == [
        "autofill-inn-results-option-1",
        "autofill-inn-results-option-2",
    ]
    assert {options.values(0)["attributes-kpp"], options.values(1)["attributes-kpp"]} == {
        "770401001",
        "165543001",
    }


def test_non_active_companies_carry_a_warning_badge(autofill, petr_browser, sub_rules):
    html = suggest(petr_browser, sub_rules["company"], "звёздная").content.decode()

    assert 'data-party-status="LIQUIDATED"' in html
    assert "text-bg-warning" in html and "Ликвидирована" in html

    active = suggest(petr_browser, sub_rules["company"], "облачный").content.decode()
    assert 'data-party-status="REORGANIZING"' in active  # REORGANIZING is not ACTIVE either
    active = suggest(petr_browser, sub_rules["company"], "ветер").content.decode()
    assert "data-party-status" not in active


def test_no_match_says_so(autofill, petr_browser, sub_rules):
    response = suggest(petr_browser, sub_rules["company"], "несуществующая")

    options = Options(response.content.decode())
    assert options.options == []
    assert (
        "Организации не найдены" in options.notes[0]["text"]
        or "No organizations" in (options.notes[0]["text"])
    )


# What choosing fills ---------------------------------------------------------------


def test_choosing_fills_every_ticked_field_from_the_record(autofill, petr_browser, sub_rules):
    options = Options(suggest(petr_browser, sub_rules["company"], "ветер").content.decode())

    assert options.values(0) == NORTH_WIND


def test_only_the_ticked_fields_are_filled(autofill, petr_browser, sub_rules):
    autofill.autofill_fields = [AutofillField.INN, AutofillField.CITY]
    autofill.save()

    options = Options(suggest(petr_browser, sub_rules["company"], "ветер").content.decode())

    assert options.values(0) == {"attributes-inn": "7704943188", "contacts-city": "г Москва"}


def test_a_sole_trader_fills_the_contract_person_from_fio_and_clears_the_kpp(
    autofill, petr_browser, sub_rules
):
    options = Options(suggest(petr_browser, sub_rules["company"], "соколова").content.decode())

    values = options.values(0)
    assert values["attributes-kpp"] == ""  # no KPP: an earlier choice's is cleared
    assert (
        values["contract_person-last_name"],
        values["contract_person-first_name"],
        values["contract_person-middle_name"],
    ) == ("Соколова", "Мария", "Андреевна")


def test_a_country_the_reseller_does_not_serve_is_left_alone(autofill, petr_browser, sub_rules):
    autofill.allowed_countries = ["BY", "KZ"]
    autofill.save()

    options = Options(suggest(petr_browser, sub_rules["company"], "ветер").content.decode())

    assert "contacts-country" not in options.values(0)


def test_attributes_the_type_lacks_are_not_filled(autofill, petr_browser, sub_rules):
    sub_rules["attributes"]["ogrn"].client_types.clear()

    options = Options(suggest(petr_browser, sub_rules["company"], "ветер").content.decode())

    assert "attributes-ogrn" not in options.values(0)
    assert options.values(0)["attributes-inn"] == "7704943188"


# The legal form --------------------------------------------------------------------


def test_the_legal_form_stays_when_the_installation_allows_it(
    autofill, petr_browser, sub_rules, root_reseller
):
    AccountValidationSettings.objects.filter(reseller=root_reseller).update(
        forbidden_abbreviations=""
    )

    options = Options(suggest(petr_browser, sub_rules["company"], "ветер").content.decode())

    assert options.values(0)["client_info-company_name"] == 'ООО "СЕВЕРНЫЙ ВЕТЕР"'


def test_the_legal_form_is_dropped_only_where_it_is_forbidden(autofill, petr_browser, sub_rules):
    # The installation forbids ООО, OOO and LLC, not АО.
    options = Options(suggest(petr_browser, sub_rules["company"], "звёздная").content.decode())

    assert options.values(0)["client_info-company_name"] == 'АО "ЗВЁЗДНАЯ ПЫЛЬ"'


def test_a_filled_name_passes_the_page_rules(autofill, petr_browser, sub_rules, root_reseller):
    from rules.validation import company_name_problems

    settings = AccountValidationSettings.objects.get(reseller=root_reseller)
    options = Options(suggest(petr_browser, sub_rules["company"], "ооо").content.decode())
    names = [options.values(i)["client_info-company_name"] for i in range(len(options.options))]

    assert names and all(not company_name_problems(name, settings=settings) for name in names)


# The key ---------------------------------------------------------------------------


def test_the_key_goes_to_the_directory_and_never_to_the_browser(
    sub_reseller, petr_browser, sub_rules, httpserver
):
    switch_on(sub_reseller, httpserver.url_for("/"))
    httpserver.expect_request(
        SUGGEST_PATH, method="POST", headers={"Authorization": f"Token {API_KEY}"}
    ).respond_with_json({"suggestions": load_parties()[:2]})
    company = str(sub_rules["company"].pk)

    responses = [
        petr_browser.get(CREATE_URL),
        petr_browser.post(
            reverse("clients:create_type"),
            {"client_info-client_type": company},
            HTTP_HX_REQUEST="true",
        ),
        suggest(petr_browser, sub_rules["company"], "ветер"),
        suggest(petr_browser, sub_rules["company"], "7704", field="attributes-inn"),
    ]

    assert len(httpserver.log) == 2
    httpserver.check_assertions()
    for response in responses:
        assert response.status_code == 200
        assert API_KEY not in response.content.decode()
        assert API_KEY not in str(response.headers)
    assert "СЕВЕРНЫЙ ВЕТЕР" in responses[2].content.decode()


# Off: nothing is asked, nothing is rendered -----------------------------------------


def test_autofill_off_for_the_reseller_asks_nothing(
    sub_reseller, petr_browser, sub_rules, httpserver
):
    switch_on(sub_reseller, httpserver.url_for("/"))
    sub_reseller.autofill_enabled = False
    sub_reseller.save()

    response = suggest(petr_browser, sub_rules["company"], "северный")
    type_part = petr_browser.post(
        reverse("clients:create_type"),
        {"client_info-client_type": str(sub_rules["company"].pk)},
        HTTP_HX_REQUEST="true",
    )

    assert (response.status_code, response.content) == (200, b"")
    assert not offers_suggestions(type_part.content.decode())
    assert httpserver.log == []


def test_autofill_off_for_the_type_asks_nothing(sub_reseller, petr_browser, sub_rules, httpserver):
    switch_on(sub_reseller, httpserver.url_for("/"))
    sub_rules["company"].autofill = False
    sub_rules["company"].save()

    response = suggest(petr_browser, sub_rules["company"], "северный")
    person = suggest(petr_browser, sub_rules["person"], "северный")
    type_part = petr_browser.post(
        reverse("clients:create_type"),
        {"client_info-client_type": str(sub_rules["company"].pk)},
        HTTP_HX_REQUEST="true",
    )

    assert (response.status_code, response.content) == (200, b"")
    assert (person.status_code, person.content) == (200, b"")
    assert not offers_suggestions(type_part.content.decode())
    assert not offers_suggestions(petr_browser.get(CREATE_URL).content.decode())
    assert httpserver.log == []


def test_another_resellers_type_asks_nothing(
    sub_reseller, petr_browser, root_rules, sub_rules, httpserver
):
    switch_on(sub_reseller, httpserver.url_for("/"))

    response = suggest(petr_browser, root_rules["company"], "северный")

    assert (response.status_code, response.content) == (200, b"")
    assert httpserver.log == []


def test_the_page_offers_suggestions_only_for_a_type_with_autofill(
    autofill, petr_browser, sub_rules
):
    person_page = petr_browser.get(CREATE_URL).content.decode()  # the default type: a person
    company = petr_browser.post(
        reverse("clients:create_type"),
        {"client_info-client_type": str(sub_rules["company"].pk)},
        HTTP_HX_REQUEST="true",
    ).content.decode()

    assert not offers_suggestions(person_page)
    assert offers_suggestions(company)
    for listbox in ("autofill-company-results", "autofill-inn-results"):
        assert f'aria-controls="{listbox}"' in company
        assert f'<ul id="{listbox}"' in company
    assert f'hx-get="{SUGGEST_URL}"' in company
    assert 'hx-trigger="input changed delay:300ms"' in company


# A directory that misbehaves ----------------------------------------------------------


def unavailable(response) -> bool:
    options = Options(response.content.decode())
    return (
        response.status_code == 200
        and options.options == []
        and len(options.notes) == 1
        and "data-autofill-unavailable" in options.notes[0]["attrs"]
    )


def test_a_dead_directory_says_suggestions_are_unavailable(sub_reseller, petr_browser, sub_rules):
    switch_on(sub_reseller, closed_port_url())

    response = suggest(petr_browser, sub_rules["company"], "северный")

    assert unavailable(response)
    assert "недоступны" in response.content.decode() or "unavailable" in response.content.decode()


def test_a_slow_directory_is_given_up_quickly(
    sub_reseller, petr_browser, sub_rules, httpserver, settings
):
    settings.DIRECTORY_READ_TIMEOUT = 0.2
    switch_on(sub_reseller, httpserver.url_for("/"))

    release = threading.Event()

    def slow(request):
        # Answers only when the test is over (or after 5 s), so the page
        # can only have answered by giving up at its read timeout.
        release.wait(5)
        from werkzeug import Response

        return Response(json.dumps({"suggestions": []}), content_type="application/json")

    httpserver.expect_request(SUGGEST_PATH).respond_with_handler(slow)
    started = time.monotonic()
    try:
        response = suggest(petr_browser, sub_rules["company"], "северный")
        elapsed = time.monotonic() - started
    finally:
        release.set()

    assert unavailable(response)
    assert elapsed < 5  # a 0.2 s read timeout, with room for a loaded machine


@pytest.mark.parametrize(
    "answer",
    ["not json at all", "[1, 2, 3]", '{"suggestions": "nope"}', '{"message": "Forbidden"}'],
)
def test_garbage_from_the_directory_says_suggestions_are_unavailable(
    sub_reseller, petr_browser, sub_rules, httpserver, answer
):
    switch_on(sub_reseller, httpserver.url_for("/"))
    httpserver.expect_request(SUGGEST_PATH).respond_with_data(
        answer, content_type="application/json"
    )

    assert unavailable(suggest(petr_browser, sub_rules["company"], "северный"))


def test_an_error_status_says_suggestions_are_unavailable(
    sub_reseller, petr_browser, sub_rules, httpserver
):
    switch_on(sub_reseller, httpserver.url_for("/"))
    httpserver.expect_request(SUGGEST_PATH).respond_with_data("", status=403)

    assert unavailable(suggest(petr_browser, sub_rules["company"], "северный"))


# Any input ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "params",
    [
        {"client_info-company_name": "сев\x00ерный\x00"},
        {"client_info-company_name": "\x00" * 50},
        {"client_info-company_name": "ветер " * 10_000},
        {"attributes-inn": "7704\x00943188"},
        {"q": "ветер", "client_info-client_type": "\x00"},
        {"client_info-company_name": "ветер", "client_info-client_type": "9" * 40},
        {"client_info-company_name": "ветер", "client_info-client_type": "-1"},
        {"client_info-company_name": "ветер", "client_info-client_type": "١٢"},
        {"client_info-company_name": "ветер", "client_info-client_type": "abc"},
        {},
    ],
)
def test_any_input_answers_200(autofill, petr_browser, sub_rules, params):
    params = {"client_info-client_type": str(sub_rules["company"].pk), **params}

    response = petr_browser.get(SUGGEST_URL, params, HTTP_HX_REQUEST="true")

    assert response.status_code == 200


def test_a_long_query_is_cut_before_it_is_sent(sub_reseller, petr_browser, sub_rules, httpserver):
    switch_on(sub_reseller, httpserver.url_for("/"))
    httpserver.expect_request(SUGGEST_PATH).respond_with_json({"suggestions": []})

    suggest(petr_browser, sub_rules["company"], "ветер\x00 " * 10_000)

    ((request, _),) = httpserver.log
    sent = request.get_json()["query"]
    assert len(sent) <= 300 and "\x00" not in sent and sent.startswith("ветер ветер")


def test_signed_out_people_get_no_suggestions(client, autofill, sub_rules):
    response = suggest(client, sub_rules["company"], "ветер")

    assert response.status_code == 302
    assert "СЕВЕРНЫЙ" not in response.content.decode()


def test_a_manager_who_may_not_create_clients_is_refused(
    sub_reseller, sub_rules, httpserver, client
):
    switch_on(sub_reseller, httpserver.url_for("/"))
    marketing = make_manager(reseller=sub_reseller, role=ManagerRole.MARKETING)
    client.force_login(marketing.user)

    response = suggest(client, sub_rules["company"], "северный")

    assert response.status_code == 403
    assert httpserver.log == []


def test_only_get_is_allowed(autofill, petr_browser):
    assert petr_browser.post(SUGGEST_URL, {"q": "ветер"}).status_code == 405
