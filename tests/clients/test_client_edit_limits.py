"""The Edit client page and client_update hold the Add client page's limits:
every text within its column, attribute values within 1,000 characters, and
no invisible, direction-changing or control character (the same check
functions as client_create: rules.validation.clean_text and
clean_attribute_value). A refused edit is an error beside its field and
nothing saved (the version and the event log unchanged)."""

from dataclasses import replace

import pytest
from django.core.exceptions import ValidationError

from clients.models import Client, ClientEvent
from rules.models import ATTRIBUTE_VALUE_MAX_LENGTH
from tests.clients import test_client_edit_page, test_client_update
from tests.clients.test_client_create_limits import CHARACTER_CLASSES, message, text_of_length
from tests.clients.test_client_edit_page import edit_url, page_data
from tests.clients.test_client_update import sections, update
from users.validators import PHONE_INPUT_MAX_LENGTH

pytestmark = pytest.mark.usefixtures("english")
# The fixtures of the edit page's and client_update's tests: a company on the
# page, a private person for the service.
company = test_client_edit_page.company
client = test_client_update.client
rules = test_client_update.rules

# Page fields of the edit page and the values they hold on the company fixture.
EDIT_TEXTS = {
    "client_info-company_name": "Ромашка",
    "contacts-city": "Москва",
    "contacts-address_line1": "ул. Тверская, 1",
    "contract_person-last_name": "Иванов",
    "attributes-kpp": "773601001",
}


def column(model, field: str) -> int:
    return model._meta.get_field(field).max_length


def post_refused(browser, client: Client, data: dict) -> str:
    """Post the edit page expecting it back with errors and nothing saved."""
    events = ClientEvent.objects.filter(client=client).count()
    response = browser.post(edit_url(client), data)
    assert response.status_code == 200, response.get("Location")
    client.refresh_from_db()
    assert client.version == 1
    assert ClientEvent.objects.filter(client=client).count() == events
    return response.content.decode()


@pytest.mark.parametrize(
    "character, kind",
    [
        CHARACTER_CLASSES[name]
        for name in ("right-to-left override U+202E", "zero-width space U+200B", "bell U+0007")
    ],
)
def test_the_edit_page_refuses_invisible_characters_beside_each_field(
    petr_browser, company, character, kind
):
    data = page_data(petr_browser.get(edit_url(company)))
    for name, text in EDIT_TEXTS.items():
        data[name] = text[:3] + character + text[3:]

    html = post_refused(petr_browser, company, data)

    for name in EDIT_TEXTS:
        assert f'id="error_1_id_{name}"' in html, name
    assert html.count(message(character, kind, 4)) >= len(EDIT_TEXTS)
    company.refresh_from_db()
    assert company.city == "Москва"


@pytest.mark.parametrize(
    "name, limit",
    [
        ("client_info-company_name", column(Client, "company_name")),
        ("contacts-city", column(Client, "city")),
        ("contacts-address_line2", column(Client, "address_line2")),
        ("contract_person-middle_name", column(Client, "contract_middle_name")),
        ("attributes-kpp", ATTRIBUTE_VALUE_MAX_LENGTH),
    ],
)
def test_the_edit_page_refuses_one_character_over_the_column(petr_browser, company, name, limit):
    data = page_data(petr_browser.get(edit_url(company)))
    data[name] = text_of_length(limit + 1)

    html = post_refused(petr_browser, company, data)

    assert f'id="error_1_id_{name}"' in html
    assert f"Ensure this value has at most {limit} characters (it has {limit + 1})." in html


def test_the_edit_page_refuses_a_megabyte_attribute(petr_browser, company):
    data = page_data(petr_browser.get(edit_url(company)))
    data["attributes-kpp"] = "7" * 1_000_000

    html = post_refused(petr_browser, company, data)

    assert "Ensure this value has at most 1000 characters" in html


@pytest.mark.parametrize(
    "section, field, value, expected",
    [
        (
            "contacts",
            "city",
            "Мо\u202eсква",
            message("\u202e", "an invisible or direction-changing character", 3),
        ),
        (
            "contacts",
            "phone",
            "+7 916\u200b123-45-67",
            message("\u200b", "an invisible or direction-changing character", 7),
        ),
        (
            "contacts",
            "phone",
            "+7" + "9" * PHONE_INPUT_MAX_LENGTH,
            f"at most {PHONE_INPUT_MAX_LENGTH} characters",
        ),
        (
            "contacts",
            "region",
            text_of_length(column(Client, "region") + 1),
            "Ensure this value has at most",
        ),
        (
            "contract_person",
            "first_name",
            "И\u2066ван",
            message("\u2066", "an invisible or direction-changing character", 2),
        ),
        (
            "contract_person",
            "email",
            "iv@exa\u202emple.com",
            message("\u202e", "an invisible or direction-changing character", 7),
        ),
    ],
)
def test_client_update_refuses_what_client_create_refuses(
    petr, client, rules, section, field, value, expected
):
    changed = replace(sections(rules)[section], **{field: value})
    with pytest.raises(ValidationError) as caught:
        update(petr, client, rules, **{section: changed})
    errors = caught.value.message_dict
    assert any(expected in text for text in errors[f"{section}.{field}"]), errors
    client.refresh_from_db()
    assert (client.version, client.city) == (1, "Москва")


def test_client_update_refuses_hidden_characters_in_attributes(petr, client, rules):
    with pytest.raises(ValidationError) as caught:
        update(
            petr,
            client,
            rules,
            attributes={"passport_series": "45\u200d10", "passport_number": "123456"},
        )
    assert (
        message("\u200d", "an invisible or direction-changing character", 3)
        in (caught.value.message_dict["attributes.passport_series"])
    )
    client.refresh_from_db()
    assert client.version == 1
