"""Names longer than their columns: refused by the page and the service with
the length message, never a database error, and quickly; the directory's
values are cut to the columns they fill before anything checks them."""

import json
import re

import pytest
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.utils import translation

from clients.inputs import NewOwner
from clients.models import Client
from tests.clients.test_autofill_suggest import SUGGEST_PATH, Options, suggest, switch_on
from tests.clients.test_client_create_page import (
    CREATE_URL,
    VALID_INN,
    VALID_KPP,
    VALID_OGRN,
    company_page,
    page_data,
    person,
)
from tests.clients.test_client_create_service import arguments, client_create, written
from tests.guards import finishes_within
from users.models import User

LONG = 60_000
COMPANY_COLUMN = Client._meta.get_field("company_name").max_length


@pytest.fixture(autouse=True)
def english(settings):
    settings.LANGUAGE_CODE = "en"
    with translation.override("en"):
        yield


@pytest.fixture(autouse=True)
def notifications_on(client_created_handler):
    """A created client would queue a notification: a refused one must not."""


def length_message(limit: int, length: int) -> str:
    return f"Ensure this value has at most {limit} characters (it has {length})."


# The service ---------------------------------------------------------------------------


def test_the_service_refuses_a_company_name_longer_than_its_column(petr, sub_rules):
    # No spaces, as a name from a directory answer was: the old domain check
    # took 45 s on it before the length was even looked at.
    name = "Ромашка" * (LONG // 7) + "x" * (LONG % 7)
    before = written()

    with (
        finishes_within(10, "client_create with a 60,000-character name"),
        pytest.raises(ValidationError) as caught,
    ):
        client_create(
            actor=petr,
            **arguments(
                sub_rules,
                client_info={"client_type": sub_rules["company"], "company_name": name},
                attributes={"inn": VALID_INN, "kpp": VALID_KPP, "ogrn": VALID_OGRN},
            ),
        )

    assert caught.value.message_dict["client_info.company_name"] == [
        length_message(COMPANY_COLUMN, LONG)
    ]
    assert written() == before


@pytest.mark.parametrize("field", ["first_name", "middle_name", "last_name"])
def test_the_service_refuses_a_new_owners_name_longer_than_its_column(petr, sub_rules, field):
    limit = User._meta.get_field(field).max_length
    owner = {"first_name": "Мария", "last_name": "Иванова", "email": "maria@example.com"}
    owner[field] = "я" * LONG
    before = written()

    with pytest.raises(ValidationError) as caught:  # not DataError
        client_create(actor=petr, **arguments(sub_rules, owner=NewOwner(**owner)))

    assert caught.value.message_dict[f"owner.new_{field}"] == [length_message(limit, LONG)]
    assert written() == before


# The page ------------------------------------------------------------------------------


def test_the_company_name_field_is_as_long_as_its_column(petr_browser, sub_rules):
    page = company_page(petr_browser).content.decode()

    [tag] = re.findall(r'<input[^>]*name="client_info-company_name"[^>]*>', page)
    assert f'maxlength="{COMPANY_COLUMN}"' in tag


def test_the_page_refuses_a_company_name_longer_than_its_column(petr_browser, sub_rules):
    page = company_page(petr_browser)
    data = person(
        page_data(page),
        **{
            "client_info-company_name": "x" * LONG,
            "attributes-inn": VALID_INN,
            "attributes-kpp": VALID_KPP,
            "attributes-ogrn": VALID_OGRN,
        },
    )
    before = written()

    with finishes_within(10, "posting a 60,000-character name"):
        response = petr_browser.post(CREATE_URL, data)

    assert response.status_code == 200
    assert length_message(COMPANY_COLUMN, LONG) in response.content.decode()
    assert written() == before


# The directory's answer ----------------------------------------------------------------


@pytest.fixture
def huge_party():
    """A sole trader whose every text is 60,000 characters without a space."""
    text = "W" * LONG  # one byte each: the answer stays under the 2 MB cap
    return {
        "value": text,
        "unrestricted_value": text,
        "data": {
            "hid": text,
            "inn": "7" * LONG,
            "kpp": "7" * LONG,
            "ogrn": "1" * LONG,
            "type": "INDIVIDUAL",
            "fio": {"surname": text, "name": text, "patronymic": text},
            "name": {"short_with_opf": text, "full_with_opf": text, "short": text},
            "management": {"name": f"{text} {text} {text}", "post": text},
            "state": {"status": text},
            "address": {
                "value": text,
                "data": {
                    "postal_code": text,
                    "country_iso_code": text,
                    "region_with_type": text,
                    "city_with_type": text,
                    "street_with_type": text,
                    "house_type": "д",
                    "house": text,
                },
            },
        },
    }


def test_directory_values_are_cut_to_the_columns_they_fill(
    sub_reseller, petr_browser, sub_rules, httpserver, huge_party
):
    cache.clear()
    switch_on(sub_reseller, httpserver.url_for("/"))
    httpserver.expect_request(SUGGEST_PATH).respond_with_json({"suggestions": [huge_party]})

    with finishes_within(10, "suggestions with 60,000-character values"):
        response = suggest(petr_browser, sub_rules["company"], "Www")

    assert response.status_code == 200
    values = Options(response.content.decode()).values(0)
    column = {field.name: field.max_length for field in Client._meta.concrete_fields}
    assert values["client_info-company_name"] == "W" * column["company_name"]
    assert values["contacts-region"] == "W" * column["region"]
    assert values["contacts-city"] == "W" * column["city"]
    assert values["contacts-postal_code"] == "W" * column["postal_code"]
    assert len(values["contacts-address_line1"]) == column["address_line1"]
    assert values["contract_person-last_name"] == "W" * column["contract_last_name"]
    assert values["contract_person-first_name"] == "W" * column["contract_first_name"]
    assert values["contract_person-middle_name"] == "W" * column["contract_middle_name"]
    # An identifier longer than any valid one is left out, not cut into another.
    assert values["attributes-inn"] == values["attributes-kpp"] == ""
    assert values["attributes-ogrn"] == ""
    # The country is not one the reseller serves, so it is not filled at all.
    assert "contacts-country" not in values
    assert len(json.dumps(values, ensure_ascii=False)) < 3_000
