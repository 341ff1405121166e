"""The Add client page's errors: each message beside its field, a summary of
the sections at the top, what was typed kept (passwords aside), nothing
saved, and no input that makes the page fail."""

import re
from html import unescape as html_unescape

import pytest
from django.urls import reverse
from django_tasks_db.models import DBTaskResult

from clients.models import Client, ClientAccess, ClientEvent
from notifications.models import Delivery
from rules.models import Attribute, AttributeValueType
from tests.clients.test_client_create_page import CREATE_URL, company_page, page_data
from tests.conftest import VALID_INN, make_client, make_user
from tests.pages import person
from users.models import PostpayMode, User

pytestmark = pytest.mark.usefixtures("english")


@pytest.fixture(autouse=True)
def notifications_on(client_created_handler):
    """A rejected page must not queue the notification a created client would."""


def submit(browser, data: dict):
    """Post the page expecting it back with errors and nothing saved."""
    counts = (Client.objects.count(), User.objects.count(), ClientAccess.objects.count())
    events = ClientEvent.objects.count()
    queued = (Delivery.objects.count(), DBTaskResult.objects.count())
    response = browser.post(CREATE_URL, data)
    assert response.status_code == 200, response.get("Location")
    assert (Client.objects.count(), User.objects.count(), ClientAccess.objects.count()) == counts
    assert ClientEvent.objects.count() == events
    assert (Delivery.objects.count(), DBTaskResult.objects.count()) == queued
    return response


def field_errors(response, field_id: str) -> str:
    """The text of the error block beside one field."""
    html = response.content.decode()
    match = re.search(
        rf'<div id="{field_id}_error" class="invalid-feedback">(.*?)</div>', html, re.S
    )
    assert match, f"no errors beside {field_id}"
    return html_unescape(re.sub(r"\s+", " ", match.group(1)))


def summary(response) -> list[str]:
    html = response.content.decode()
    block = re.search(
        r'<div class="alert alert-danger[^"]*"[^>]*id="error-summary".*?</div>', html, re.S
    )
    assert block, "no error summary"
    return re.findall(r'class="alert-link">([^<]+)</a>', block.group(0))


@pytest.fixture
def blank(petr_browser, sub_rules) -> dict:
    return page_data(petr_browser.get(CREATE_URL))


def test_an_empty_page_lists_every_section_with_errors(petr_browser, blank):
    response = submit(petr_browser, blank)
    assert summary(response) == [
        "Contacts",
        "Contract person",
        "Owner",
        "Additional information",
    ]
    assert "This field is required." in field_errors(response, "id_contacts-city")
    assert "This field is required." in field_errors(response, "id_owner-new_email")
    assert "This field is required." in field_errors(response, "id_attributes-passport_series")


def test_what_was_typed_is_kept_passwords_aside(petr_browser, sub_rules, sub_reseller):
    secret = Attribute.objects.create(
        reseller=sub_reseller, key="pin", name="PIN", value_type=AttributeValueType.PASSWORD
    )
    secret.client_types.set([sub_rules["person"]])
    data = person(
        page_data(petr_browser.get(CREATE_URL)),
        **{"contacts-phone": "12", "attributes-pin": "0000", "contacts-region": "Тверская обл."},
    )
    response = submit(petr_browser, data)
    kept = page_data(response)
    assert "Phone" not in summary(response) and summary(response) == ["Contacts"]
    assert kept["contacts-phone"] == "12"
    assert kept["contacts-region"] == "Тверская обл."
    assert kept["contract_person-first_name"] == "Иван"
    assert kept["owner-new_email"] == "maria@example.com"
    assert kept["attributes-passport_series"] == "4510"
    assert kept["creation_token"] == data["creation_token"]
    assert kept["attributes-pin"] == ""


def test_company_name_errors_quote_the_offending_part(petr_browser, sub_rules):
    data = person(
        page_data(company_page(petr_browser)),
        **{"client_info-company_name": "ооо Ромашка.ru", "attributes-inn": VALID_INN},
    )
    response = submit(petr_browser, data)
    errors = field_errors(response, "id_client_info-company_name")
    assert "forbidden abbreviation “ооо”" in errors
    assert "forbidden domain “Ромашка.ru”" in errors
    assert summary(response) == ["Client information"]


def test_a_company_needs_its_company_name(petr_browser, sub_rules):
    data = person(page_data(company_page(petr_browser)), **{"attributes-inn": VALID_INN})
    response = submit(petr_browser, data)
    assert "This field is required." in field_errors(response, "id_client_info-company_name")


def test_a_forbidden_region(petr_browser, blank):
    response = submit(petr_browser, person(blank, **{"contacts-region": "Respublika Krym"}))
    assert "forbidden list as “Крым”" in field_errors(response, "id_contacts-region")


def test_latin_contacts_offer_the_transliteration(petr_browser, sub_reseller, sub_rules):
    sub_reseller.latin_contacts = True
    sub_reseller.save()
    data = person(page_data(petr_browser.get(CREATE_URL)), **{"contacts-region": "Moscow"})
    response = submit(petr_browser, data)
    errors = field_errors(response, "id_contacts-city")
    assert "Suggested: “Moskva”." in errors
    assert 'data-target="id_contacts-city" data-value="Moskva"' in errors
    assert "js-use-transliteration" in errors


def test_invalid_phone_and_emails(petr_browser, blank):
    data = person(
        blank,
        **{
            "contacts-phone": "+7 000",
            "contacts-email": "nobody",
            "contract_person-email": "x@",
            "owner-new_email": "@example.com",
        },
    )
    response = submit(petr_browser, data)
    assert "phone number" in field_errors(response, "id_contacts-phone")
    assert "valid email" in field_errors(response, "id_contacts-email")
    assert "valid email" in field_errors(response, "id_contract_person-email")
    assert "valid email" in field_errors(response, "id_owner-new_email")


def test_attribute_errors(petr_browser, blank):
    response = submit(
        petr_browser,
        person(blank, **{"attributes-passport_series": "45 10", "attributes-passport_number": ""}),
    )
    assert "Enter the value in the format" in field_errors(
        response, "id_attributes-passport_series"
    )
    assert "This field is required." in field_errors(response, "id_attributes-passport_number")


@pytest.mark.parametrize(
    ("inn", "message"),
    [
        ("7707083894", "INN: the check digit is wrong (checksum failed)."),
        ("123", "INN: wrong length"),
        ("77070838AB", "INN: only digits are allowed (format check failed)."),
    ],
)
def test_inn_says_which_check_failed(petr_browser, sub_rules, inn, message):
    data = person(
        page_data(company_page(petr_browser)),
        **{"client_info-company_name": "Ромашка", "attributes-inn": inn},
    )
    response = submit(petr_browser, data)
    assert message in field_errors(response, "id_attributes-inn")


def test_an_existing_owner_must_be_chosen(petr_browser, blank):
    response = submit(petr_browser, person(blank, **{"owner-mode": "existing"}))
    assert "Search by name or email and choose the owner." in field_errors(
        response, "id_owner-query"
    )


def test_a_taken_email_of_a_user_out_of_reach_names_nobody(petr_browser, blank):
    make_user(email="secret@example.com", first_name="Тайна", last_name="Тайнова")
    response = submit(petr_browser, person(blank, **{"owner-new_email": "Secret@Example.com"}))
    errors = field_errors(response, "id_owner-new_email")
    assert "This email cannot be used for a new owner." in errors
    assert "Тайна" not in errors and "owner-select_user" not in errors


def test_postpay_permission_must_be_one_of_the_choices(petr_browser, sub_reseller, sub_rules):
    sub_reseller.postpay_mode = PostpayMode.MANUAL
    sub_reseller.save()
    data = person(
        page_data(petr_browser.get(CREATE_URL)),
        **{"client_info-postpay_permission": "whatever"},
    )
    response = submit(petr_browser, data)
    assert "Select a valid choice." in field_errors(response, "id_client_info-postpay_permission")


# Another reseller's ids ----------------------------------------------------------------------


def test_another_resellers_type_is_rejected(petr_browser, blank, root_rules):
    data = person(blank, **{"client_info-client_type": str(root_rules["person"].pk)})
    response = submit(petr_browser, data)
    assert "Select a valid choice." in field_errors(response, "id_client_info-client_type")


def test_another_resellers_rule_is_rejected(petr_browser, blank, root_rules):
    data = person(blank, **{"client_info-service_rule": str(root_rules["vip"].pk)})
    response = submit(petr_browser, data)
    assert "Select a valid choice." in field_errors(response, "id_client_info-service_rule")


def test_another_resellers_manager_is_rejected(petr_browser, blank, irina):
    data = person(blank, **{"client_info-manager": str(irina.pk)})
    response = submit(petr_browser, data)
    assert "Select a valid choice." in field_errors(response, "id_client_info-manager")


def test_an_inactive_manager_is_rejected(petr_browser, blank, oleg):
    data = person(blank, **{"client_info-manager": str(oleg.pk)})
    response = submit(petr_browser, data)
    assert "Select a valid choice." in field_errors(response, "id_client_info-manager")


def test_another_resellers_owner_is_rejected(petr_browser, blank, root_reseller, root_rules):
    outsider = make_user(email="outsider@example.com")
    make_client(reseller=root_reseller, rules=root_rules, owner=outsider)
    for field in ("owner-user", "owner-pick"):
        data = person(dict(blank), **{"owner-mode": "existing", field: str(outsider.pk)})
        response = submit(petr_browser, data)
        assert "Select a user of your reseller's clients." in field_errors(
            response, "id_owner-query"
        )


def test_typing_and_rule_errors_show_in_one_round(petr_browser, blank, sub_reseller, sub_rules):
    """What the forms cannot read (an empty city, a malformed email) and what
    the service refuses (a forbidden region, a taken email, a bad INN format)
    are shown together, and each field shows one error, not two."""
    known = make_user(email="known@example.com", first_name="Анна", last_name="Белова")
    make_client(reseller=sub_reseller, rules=sub_rules, owner=known)
    data = person(
        blank,
        **{
            "contacts-city": "",
            "contacts-region": "Crimea",
            "contract_person-email": "x@",
            "owner-new_email": "KNOWN@example.com",
            "attributes-passport_series": "45 10",
        },
    )
    response = submit(petr_browser, data)
    assert field_errors(response, "id_contacts-city").count("<strong>") == 1
    assert "forbidden list" in field_errors(response, "id_contacts-region")
    assert "valid email" in field_errors(response, "id_contract_person-email")
    assert "select this user as the owner instead" in field_errors(response, "id_owner-new_email")
    assert "Enter the value in the format" in field_errors(
        response, "id_attributes-passport_series"
    )
    assert summary(response) == ["Contacts", "Contract person", "Owner", "Additional information"]


def test_a_wrong_client_type_still_shows_the_other_sections_errors(petr_browser, blank, root_rules):
    data = person(
        blank,
        **{"client_info-client_type": str(root_rules["person"].pk), "contacts-region": "Crimea"},
    )
    response = submit(petr_browser, data)
    assert "Select a valid choice." in field_errors(response, "id_client_info-client_type")
    assert "forbidden list" in field_errors(response, "id_contacts-region")


def test_the_service_has_the_last_word(petr_browser, blank, monkeypatch):
    """An error only the service finds lands beside its field too."""
    from django.core.exceptions import ValidationError

    from clients import services

    def refuse(**kwargs):
        raise ValidationError(
            {
                "contacts.city": ["Closed for the winter."],
                "owner.new_email": ["Not this one."],
                "attributes.passport_number": ["Stolen."],
                "something_else": ["Try again later."],
            }
        )

    monkeypatch.setattr(services, "client_create", refuse)
    response = submit(petr_browser, person(blank))
    assert "Closed for the winter." in field_errors(response, "id_contacts-city")
    assert "Not this one." in field_errors(response, "id_owner-new_email")
    assert "Stolen." in field_errors(response, "id_attributes-passport_number")
    assert "Try again later." in response.content.decode()
    assert summary(response) == ["Contacts", "Owner", "Additional information"]


def test_a_missing_token_asks_to_submit_again(petr_browser, blank):
    data = person(blank)
    data["creation_token"] = "not-a-uuid"
    response = submit(petr_browser, data)
    assert "This page has expired" in response.content.decode()
    fresh = page_data(response)["creation_token"]
    assert fresh != "not-a-uuid"
    assert petr_browser.post(CREATE_URL, {**data, "creation_token": fresh}).status_code == 302


# Nothing makes the page fail ----------------------------------------------------------------------


@pytest.mark.parametrize(
    "changes",
    [
        {"client_info-client_type": "abc"},
        {"client_info-client_type": "99999999999999999999999"},
        {"client_info-manager": "-1"},
        {"client_info-service_rule": "1.5"},
        {"contacts-country": "XX"},
        {"contacts-city": "М" * 5000},
        {"contacts-city": "Москва\x00"},
        {"contacts-phone": "+" + "9" * 300},
        {"owner-mode": "both"},
        {"owner-user": "1 OR 1=1"},
        {"owner-pick": "99999999999999999999"},
        {"owner-mode": "existing", "owner-user": "²"},
        {"owner-mode": "existing", "owner-pick": "٣"},
        {"attributes-passport_series": "\x00"},
        {"attributes-rendered_for": "<script>"},
        {"creation_token": ""},
    ],
)
def test_odd_input_is_an_error_not_a_crash(petr_browser, blank, changes):
    response = petr_browser.post(CREATE_URL, person(blank, **changes))
    assert response.status_code in {200, 302}
    if response.status_code == 200:
        assert "error-summary" in response.content.decode()


@pytest.mark.parametrize(
    "data",
    [
        {},
        {"client_info-client_type": "abc"},
        {"_apply_type": "1", "client_info-client_type": "\x00"},
        {"owner-select_user": "abc"},
        {"_owner_search": "1", "owner-query": "\x00"},
        {"_copy_contract": "1"},
    ],
)
def test_partial_posts_never_fail(petr_browser, sub_rules, data):
    assert petr_browser.post(CREATE_URL, data).status_code == 200
    assert petr_browser.post(reverse("clients:create_type"), data).status_code == 200
    search = petr_browser.get(reverse("clients:owner_search"), {"q": "\x00ab"})
    assert search.status_code == 200
    essay = " ".join(["слово"] * 2000)
    assert petr_browser.get(reverse("clients:owner_search"), {"q": essay}).status_code == 200
    selected = {"owner-select_user": "²"}
    assert petr_browser.post(CREATE_URL, selected).status_code == 200
