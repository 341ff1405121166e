"""Every text field of the Add client page against its column and against
characters a reader cannot see.

Each field has its column's length in the form and in the service: one
character more is a message beside the field, the page back (200) and nothing
saved, never a database error. Invisible and direction-changing characters
(format characters, control characters, Hangul fillers) are refused with their
code point and position by rules.validation.validate_visible_text, which the
service runs on every text it is given; a multi-line attribute keeps its line
breaks.
"""

from dataclasses import replace

import pytest
from django.core.exceptions import ValidationError

from clients.forms.sections import OWNER_QUERY_MAX_LENGTH
from clients.inputs import NewOwner
from clients.models import Client, ClientAttributeValue
from rules.models import ATTRIBUTE_VALUE_MAX_LENGTH
from rules.validation import validate_visible_text
from tests.clients.test_client_create_page import CREATE_URL, company_page, page_data
from tests.clients.test_client_create_page_errors import field_errors, submit
from tests.clients.test_client_create_service import (
    arguments,
    assert_rejected,
    client_create,
    company_arguments,
    written,
)
from tests.conftest import VALID_INN
from tests.pages import person
from users.models import User
from users.validators import PHONE_INPUT_MAX_LENGTH

pytestmark = pytest.mark.usefixtures("english")


@pytest.fixture(autouse=True)
def notifications_on(client_created_handler):
    """A created client queues its notification; a refused one must not."""


def column(model, field: str) -> int:
    return model._meta.get_field(field).max_length


def email_of_length(length: int) -> str:
    """A valid email of exactly ``length`` characters (a 64-character local
    part, labels of at most 63)."""
    local, tail = "o" * 64, "example.com"
    prefix = length - len(local) - 1 - len(tail)
    labels = []
    while prefix > 0:
        size = min(63, prefix)  # the label and its dot
        if prefix - size == 1:
            size -= 1  # leave two for the last label: a lone dot would make ".."
        labels.append("d" * (size - 1) + ".")
        prefix -= size
    email = f"{local}@{''.join(labels)}{tail}"
    assert len(email) == length and ".." not in email
    return email


def text_of_length(length: int) -> str:
    return ("Длинное имя " * (length // 12 + 1))[:length].strip().ljust(length, "я")


# (page field, its limit, how a value of some length is made, the page's setup)
PAGE_FIELDS = {
    "client_info-company_name": (column(Client, "company_name"), text_of_length, "company"),
    "contacts-region": (column(Client, "region"), text_of_length, "person"),
    "contacts-city": (column(Client, "city"), text_of_length, "person"),
    "contacts-postal_code": (column(Client, "postal_code"), text_of_length, "person"),
    "contacts-address_line1": (column(Client, "address_line1"), text_of_length, "person"),
    "contacts-address_line2": (column(Client, "address_line2"), text_of_length, "person"),
    "contacts-phone": (PHONE_INPUT_MAX_LENGTH, lambda n: "+7" + "9" * (n - 2), "person"),
    "contacts-email": (column(Client, "email"), email_of_length, "person"),
    "contract_person-first_name": (column(Client, "contract_first_name"), text_of_length, "person"),
    "contract_person-last_name": (column(Client, "contract_last_name"), text_of_length, "person"),
    "contract_person-middle_name": (
        column(Client, "contract_middle_name"),
        text_of_length,
        "person",
    ),
    "contract_person-email": (column(Client, "contract_email"), email_of_length, "person"),
    "owner-new_first_name": (column(User, "first_name"), text_of_length, "person"),
    "owner-new_last_name": (column(User, "last_name"), text_of_length, "person"),
    "owner-new_middle_name": (column(User, "middle_name"), text_of_length, "person"),
    "owner-new_email": (column(User, "email"), email_of_length, "person"),
    "owner-query": (OWNER_QUERY_MAX_LENGTH, text_of_length, "existing owner"),
    "attributes-passport_series": (ATTRIBUTE_VALUE_MAX_LENGTH, lambda n: "4" * n, "person"),
    "attributes-passport_issued_by": (ATTRIBUTE_VALUE_MAX_LENGTH, text_of_length, "person"),
    "attributes-inn": (ATTRIBUTE_VALUE_MAX_LENGTH, lambda n: "7" * n, "company"),
    "attributes-kpp": (ATTRIBUTE_VALUE_MAX_LENGTH, lambda n: "7" * n, "company"),
    "attributes-ogrn": (ATTRIBUTE_VALUE_MAX_LENGTH, lambda n: "1" * n, "company"),
}


def filled_page(browser, setup: str) -> dict:
    """A valid page of the kind the field needs."""
    if setup == "company":
        data = person(page_data(company_page(browser)))
        data.update({"client_info-company_name": "Ромашка", "attributes-inn": VALID_INN})
        return data
    data = person(page_data(browser.get(CREATE_URL)))
    if setup == "existing owner":
        data["owner-mode"] = "existing"
    return data


@pytest.mark.parametrize("name", PAGE_FIELDS)
def test_one_character_over_the_column_is_a_message_beside_the_field(petr_browser, sub_rules, name):
    limit, make, setup = PAGE_FIELDS[name]
    data = filled_page(petr_browser, setup)
    data[name] = make(limit + 1)

    response = submit(petr_browser, data)  # 200, nothing saved

    assert (
        f"Ensure this value has at most {limit} characters (it has {limit + 1})."
        in field_errors(response, f"id_{name}")
    )


@pytest.mark.parametrize("length", [255, 300, 320])
def test_a_new_owners_email_up_to_320_characters_is_refused_beside_the_field(
    petr_browser, sub_rules, length
):
    """The probe's case: Django's email check allows 320 characters, the column 254."""
    data = filled_page(petr_browser, "person")
    data["owner-new_email"] = email_of_length(length)
    response = submit(petr_browser, data)
    assert "Ensure this value has at most 254 characters" in field_errors(
        response, "id_owner-new_email"
    )


def test_every_field_at_its_columns_length_is_saved(petr_browser, sub_rules):
    data = filled_page(petr_browser, "person")
    for name, (limit, make, setup) in PAGE_FIELDS.items():
        if setup == "person" and name not in {"contacts-phone", "attributes-passport_series"}:
            data[name] = make(limit)
    response = petr_browser.post(CREATE_URL, data)
    assert response.status_code == 302, response.content.decode()[:2000]
    client = Client.objects.get()
    assert len(client.city) == column(Client, "city")
    assert len(client.accesses.get().user.email) == column(User, "email")
    assert (
        len(ClientAttributeValue.objects.get(attribute__key="passport_issued_by").value)
        == ATTRIBUTE_VALUE_MAX_LENGTH
    )


# The service refuses the same, whoever calls it -------------------------------------------

SERVICE_FIELDS = {
    "contacts.region": column(Client, "region"),
    "contacts.city": column(Client, "city"),
    "contacts.postal_code": column(Client, "postal_code"),
    "contacts.address_line1": column(Client, "address_line1"),
    "contacts.address_line2": column(Client, "address_line2"),
    "contacts.phone": PHONE_INPUT_MAX_LENGTH,
    "contacts.email": column(Client, "email"),
    "contract_person.first_name": column(Client, "contract_first_name"),
    "contract_person.middle_name": column(Client, "contract_middle_name"),
    "contract_person.last_name": column(Client, "contract_last_name"),
    "contract_person.email": column(Client, "contract_email"),
    "owner.new_first_name": column(User, "first_name"),
    "owner.new_middle_name": column(User, "middle_name"),
    "owner.new_last_name": column(User, "last_name"),
    "owner.new_email": column(User, "email"),
    "attributes.passport_issued_by": ATTRIBUTE_VALUE_MAX_LENGTH,
}


def with_value(rules: dict, key: str, value: str) -> dict:
    """The service's arguments of a valid person with one value replaced,
    the value named by its error key (``contacts.city``, ``owner.new_email``)."""
    section, field = key.split(".")
    values = arguments(rules)
    if section == "owner":
        owner = NewOwner(first_name="Мария", last_name="Иванова", email="maria@example.com")
        values["owner"] = replace(owner, **{field.removeprefix("new_"): value})
    elif section == "attributes":
        values["attributes"] = {**values["attributes"], field: value}
    else:
        values[section] = replace(values[section], **{field: value})
    return values


@pytest.mark.parametrize("field", SERVICE_FIELDS)
def test_the_service_refuses_one_character_over_the_column(petr, sub_rules, field):
    limit = SERVICE_FIELDS[field]
    value = email_of_length(limit + 1) if "email" in field else text_of_length(limit + 1)
    assert_rejected(
        petr,
        {field: f"Ensure this value has at most {limit} characters"},
        **with_value(sub_rules, field, value),
    )


def test_the_service_refuses_an_over_long_company_name(petr, sub_rules):
    limit = column(Client, "company_name")
    assert_rejected(
        petr,
        {"client_info.company_name": f"Ensure this value has at most {limit} characters"},
        **company_arguments(sub_rules, company_name=text_of_length(limit + 1)),
    )


def test_a_megabyte_attribute_is_refused(petr_browser, petr, sub_rules):
    megabyte = "я" * 1_000_000
    assert_rejected(
        petr,
        {"attributes.passport_issued_by": "Ensure this value has at most 1000 characters"},
        **with_value(sub_rules, "attributes.passport_issued_by", megabyte),
    )
    data = filled_page(petr_browser, "person")
    data["attributes-passport_issued_by"] = megabyte
    response = submit(petr_browser, data)
    assert "Ensure this value has at most 1000 characters" in field_errors(
        response, "id_attributes-passport_issued_by"
    )


def test_the_column_is_bounded_too():
    assert column(ClientAttributeValue, "value") == ATTRIBUTE_VALUE_MAX_LENGTH


# Invisible and direction-changing characters -------------------------------------------

# One of each kind: (character, the message's words).
INVISIBLE = "an invisible or direction-changing character"
CONTROL = "a control character"
CHARACTER_CLASSES = {
    "right-to-left override U+202E": ("\u202e", INVISIBLE),
    "left-to-right embedding U+202A": ("\u202a", INVISIBLE),
    "first strong isolate U+2068": ("\u2068", INVISIBLE),
    "right-to-left mark U+200F": ("\u200f", INVISIBLE),
    "zero-width space U+200B": ("\u200b", INVISIBLE),
    "zero-width joiner U+200D": ("\u200d", INVISIBLE),
    "word joiner U+2060": ("\u2060", INVISIBLE),
    "byte-order mark U+FEFF": ("\ufeff", INVISIBLE),
    "soft hyphen U+00AD": ("\u00ad", INVISIBLE),
    "Arabic letter mark U+061C": ("\u061c", INVISIBLE),
    "tag letter U+E0041": ("\U000e0041", INVISIBLE),
    "Hangul filler U+3164": ("\u3164", INVISIBLE),
    "bell U+0007": ("\x07", CONTROL),
    "escape U+001B": ("\x1b", CONTROL),
    "line feed U+000A": ("\n", CONTROL),
    "next line U+0085": ("\x85", CONTROL),
    "line separator U+2028": ("\u2028", CONTROL),
}
# A name, a contacts field, the new owner's name and an attribute, as the page names them.
PAGE_TEXTS = {
    "contract_person-last_name": "Иванов",
    "contacts-city": "Москва",
    "owner-new_first_name": "Мария",
    "attributes-passport_issued_by": "ОВД Тверского района",
}


def message(character: str, kind: str, position: int) -> str:
    return f"The value contains {kind} (U+{ord(character):04X}) at position {position}."


@pytest.mark.parametrize("character, kind", CHARACTER_CLASSES.values(), ids=CHARACTER_CLASSES)
def test_an_invisible_character_is_refused_beside_each_field(
    petr_browser, sub_rules, character, kind
):
    data = filled_page(petr_browser, "person")
    names = [
        name
        for name in PAGE_TEXTS
        # A multi-line text keeps its line breaks (tested below).
        if not (name == "attributes-passport_issued_by" and character == "\n")
    ]
    for name in names:
        text = PAGE_TEXTS[name]
        data[name] = text[:3] + character + text[3:]

    response = submit(petr_browser, data)  # 200, nothing saved

    for name in names:
        assert message(character, kind, 4) in field_errors(response, f"id_{name}"), name


def test_the_company_name_and_emails_are_checked_too(petr_browser, sub_rules):
    data = filled_page(petr_browser, "company")
    data["client_info-company_name"] = "Ромашка\u202e"
    response = submit(petr_browser, data)
    assert message("\u202e", INVISIBLE, 8) in field_errors(response, "id_client_info-company_name")

    data = filled_page(petr_browser, "person")
    data["owner-new_email"] = "maria@exam\u202eple.com"  # Django's check lets it through
    response = submit(petr_browser, data)
    assert message("\u202e", INVISIBLE, 11) in field_errors(response, "id_owner-new_email")


SERVICE_TEXTS = ["client_info.company_name", *SERVICE_FIELDS]


@pytest.mark.parametrize("character, kind", CHARACTER_CLASSES.values(), ids=CHARACTER_CLASSES)
def test_the_service_refuses_invisible_characters_in_every_text(petr, sub_rules, character, kind):
    for field in SERVICE_TEXTS:
        if field == "attributes.passport_issued_by" and character == "\n":
            continue
        if field == "client_info.company_name":
            values = company_arguments(sub_rules, company_name="Ром" + character + "ашка")
        else:
            values = with_value(sub_rules, field, "x@e" + character + "xample.com")
        assert_rejected(petr, {field: message(character, kind, 4)}, **values)


def test_a_multi_line_attribute_keeps_its_line_breaks(petr, sub_rules):
    text = "ОВД Тверского района\r\nг. Москвы\tкод 770-001"
    client = client_create(
        actor=petr, **with_value(sub_rules, "attributes.passport_issued_by", text)
    )
    assert client.attribute_values.get(attribute__key="passport_issued_by").value == text


def test_a_one_line_field_refuses_a_line_break_inside(petr, sub_rules):
    assert_rejected(
        petr,
        {"contacts.city": message("\n", CONTROL, 7)},
        **with_value(sub_rules, "contacts.city", "Москва\nSubject: x"),
    )


def test_surrounding_whitespace_is_still_stripped(petr, sub_rules):
    client = client_create(actor=petr, **with_value(sub_rules, "contacts.city", "  Москва\n"))
    assert client.city == "Москва"


# The pure check ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "Ромашка",
        "Сбер\u00a0Банк",  # a no-break space shows as a space
        "Zoë Ğüneş",
        "Зое\u0308",  # a combining diaeresis shows on its letter
        "Café 🚀",
        "O'Brien-Smith (ООО «Вектор»)",
        "",
    ],
)
def test_visible_texts_pass(text):
    validate_visible_text(text)


def test_the_message_names_the_first_one_and_its_position():
    with pytest.raises(ValidationError) as caught:
        validate_visible_text("abcd\u202eef\u200b")
    (error,) = caught.value.error_list
    assert error.code == "invisible_character"
    assert error.params == {"code": "U+202E", "position": 5}
    assert caught.value.messages == [
        "The value contains an invisible or direction-changing character (U+202E) at position 5."
    ]


def test_multi_line_allows_only_tabs_and_line_breaks():
    validate_visible_text("a\tb\r\nc", multiline=True)
    for character in ("\x00", "\x0b", "\x0c", "\u2028", "\u2029", "\u202e"):
        with pytest.raises(ValidationError):
            validate_visible_text("a" + character, multiline=True)


def test_a_refused_post_writes_nothing(petr, sub_rules):
    before = written()
    with pytest.raises(ValidationError):
        client_create(actor=petr, **with_value(sub_rules, "contacts.city", "Мо\u200bсква"))
    assert written() == before
