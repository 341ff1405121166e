"""The Add client page as a browser without JavaScript uses it: every POST is
built from the fields the page rendered, then filled in like an operator."""

from html import unescape as html_unescape

import pytest
from django.contrib.messages import get_messages
from django.urls import reverse

from clients.models import (
    AccessLevel,
    Client,
    ClientAccess,
    ClientEvent,
    EventType,
    PostpayPermission,
    TermsStatus,
)
from notifications.models import Delivery
from rules.models import Attribute, AttributeOption, AttributeValueType
from tests.conftest import VALID_INN, VALID_KPP, VALID_OGRN, make_client, make_manager, make_user
from tests.pages import FormFields, form_fields, person, select_options
from users.models import PostpayMode, User

CREATE_URL = reverse("clients:create")

pytestmark = pytest.mark.usefixtures("english")


@pytest.fixture(autouse=True)
def notifications_on(client_created_handler):
    """Creating a client queues its notification, as in production."""


def page_fields(response) -> FormFields:
    return form_fields(response.content.decode())


def page_data(response) -> dict[str, str]:
    """What submitting the page as rendered would send."""
    return dict(page_fields(response).fields)


def press(browser, response, button: str, value: str = "1", **changes):
    """Press one of the page's helper buttons after changing some fields."""
    data = page_data(response)
    data.update(changes)
    data[button] = value
    return browser.post(CREATE_URL, data)


def company_page(browser):
    """The page with the company type applied, as the no-JavaScript "Apply" does."""
    page = browser.get(CREATE_URL)
    company_id = next(
        value
        for value, label in _options(page, "client_info-client_type")
        if label == "Юридическое лицо"
    )
    return press(browser, page, "_apply_type", **{"client_info-client_type": company_id})


def _options(response, name: str) -> list[tuple[str, str]]:
    return select_options(response.content.decode(), name)


def messages_of(response) -> list[str]:
    return [str(message) for message in get_messages(response.wsgi_request)]


# The page as it opens ------------------------------------------------------------------


def test_the_page_shows_the_sections_in_order(petr_browser, sub_rules, sub_reseller):
    sub_reseller.terms_required = True
    sub_reseller.terms_url = "https://partner.example/terms"
    sub_reseller.save()
    html = petr_browser.get(CREATE_URL).content.decode()
    titles = [
        "Client information",
        "Contacts",
        "Contract person",
        "Owner",
        "Agreements",
        "Additional information",
    ]
    positions = [html.index(f">{title}</h2>") for title in titles]
    assert positions == sorted(positions)
    assert html.count('type="submit" name="_create"') == 2  # the visible one and Enter's
    assert html.count('<form method="post" action="/clients/create/"') == 1


def test_the_page_preselects_the_defaults(petr_browser, petr, oleg, irina, sub_rules):
    page = petr_browser.get(CREATE_URL)
    data = page_data(page)
    assert data["client_info-client_type"] == str(sub_rules["person"].pk)
    assert data["client_info-service_rule"] == str(sub_rules["standard"].pk)
    assert data["client_info-manager"] == ""
    assert data["contacts-country"] == "RU"
    assert data["owner-mode"] == "new"
    managers = _options(page, "client_info-manager")
    assert [value for value, _label in managers] == ["", str(petr.pk)]  # not Олег, not Ирина
    fields = page_fields(page).rendered
    assert "client_info-company_name" not in fields  # a private person has none
    assert "client_info-postpay_permission" not in fields  # Automatically
    assert "agreements-accepted" not in fields  # terms not requested
    assert [name for name in fields if name.startswith("attributes-")] == [
        "attributes-rendered_for",
        "attributes-passport_series",
        "attributes-passport_number",
        "attributes-passport_issued_by",
    ]


def test_countries_are_the_resellers_allowed_ones(petr_browser, sub_rules, sub_reseller):
    sub_reseller.allowed_countries = ["BY", "RU", "KZ"]
    sub_reseller.default_country = "KZ"
    sub_reseller.save()
    page = petr_browser.get(CREATE_URL)
    assert sorted(value for value, _label in _options(page, "contacts-country")) == [
        "BY",
        "KZ",
        "RU",
    ]
    assert page_data(page)["contacts-country"] == "KZ"


def test_the_page_reads_the_database_a_fixed_number_of_times(
    petr_browser, sub_rules, django_assert_max_num_queries
):
    petr_browser.get(CREATE_URL)  # the session and the manager, warmed up
    # Session, user, manager (twice: sign-in guard and the page), validation
    # settings, client types, the type's attributes and their options, service
    # rules, managers; and the session's update, which moves the idle expiry
    # on at every request (SESSION_SAVE_EVERY_REQUEST); the role's permissions
    # (the user's and its groups', users.roles).
    with django_assert_max_num_queries(13):
        response = petr_browser.get(CREATE_URL)
    assert response.status_code == 200


def test_only_managers_reach_the_page(client, oleg, sub_rules):
    response = client.get(CREATE_URL)
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


# Creating ---------------------------------------------------------------------------------


def test_a_private_person_without_company_name(petr_browser, petr, sub_rules):
    data = person(page_data(petr_browser.get(CREATE_URL)))
    response = petr_browser.post(CREATE_URL, data)

    client = Client.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("clients:detail", args=[client.pk])
    assert client.name == "Иванов Иван Петрович"
    assert client.company_name == ""
    assert client.client_type == sub_rules["person"]
    assert client.service_rule == sub_rules["standard"]
    assert client.manager is None
    assert client.phone == "+79161234567"
    assert client.created_by == petr.user
    owner = client.accesses.get(level=AccessLevel.OWNER).user
    assert (owner.email, owner.first_name) == ("maria@example.com", "Мария")
    assert messages_of(response) == ["The client Иванов Иван Петрович is created."]
    assert Delivery.objects.get(client=client).recipient == "maria@example.com"
    detail = petr_browser.get(response["Location"])
    assert detail.status_code == 200


def test_a_company_with_all_attributes(petr_browser, petr, sub_rules, sub_reseller):
    # Every value type on the company type, each with its own control.
    for key, value_type, weight in [
        ("vat_payer", AttributeValueType.CHECKBOX, 40),
        ("registered_on", AttributeValueType.DATE, 50),
        ("segment", AttributeValueType.LIST, 60),
        ("portal_password", AttributeValueType.PASSWORD, 70),
        ("note", AttributeValueType.TEXT, 80),
    ]:
        attribute = Attribute.objects.create(
            reseller=sub_reseller, key=key, name=key, value_type=value_type, weight=weight
        )
        attribute.client_types.set([sub_rules["company"]])
    AttributeOption.objects.create(
        attribute=Attribute.objects.get(key="segment"), key="gov", name="Госсектор"
    )
    page = company_page(petr_browser)
    fields = page_fields(page).rendered
    assert "client_info-company_name" in fields
    assert "Наименование компании" in page.content.decode()  # the type's primary name
    assert [name for name in fields if name.startswith("attributes-")][1:] == [
        "attributes-inn",
        "attributes-kpp",
        "attributes-ogrn",
        "attributes-vat_payer",
        "attributes-registered_on",
        "attributes-segment",
        "attributes-portal_password",
        "attributes-note",
    ]
    html = page.content.decode()
    assert 'type="date" name="attributes-registered_on"' in html
    assert 'type="password" name="attributes-portal_password"' in html
    assert 'type="checkbox" name="attributes-vat_payer"' in html
    assert '<textarea name="attributes-note"' in html
    data = person(page_data(page))
    data.update(
        {
            "client_info-company_name": "Ромашка",
            "client_info-manager": str(petr.pk),
            "client_info-service_rule": str(sub_rules["vip"].pk),
            "attributes-inn": VALID_INN,
            "attributes-kpp": VALID_KPP,
            "attributes-ogrn": VALID_OGRN,
            "attributes-vat_payer": "on",
            "attributes-registered_on": "2020-05-17",
            "attributes-segment": "gov",
            "attributes-portal_password": "s3cret",
            "attributes-note": "Первый клиент",
        }
    )
    response = petr_browser.post(CREATE_URL, data)

    client = Client.objects.get()
    assert response.status_code == 302
    assert (client.name, client.company_name) == ("Ромашка", "Ромашка")
    assert (client.manager, client.service_rule) == (petr, sub_rules["vip"])
    stored = {value.attribute.key: value.value for value in client.attribute_values.all()}
    assert stored == {
        "inn": VALID_INN,
        "kpp": VALID_KPP,
        "ogrn": VALID_OGRN,
        "vat_payer": "1",
        "registered_on": "2020-05-17",
        "segment": "gov",
        "portal_password": "s3cret",
        "note": "Первый клиент",
    }


def test_an_existing_owner(petr_browser, sub_rules, sub_reseller):
    known = make_user(email="anna@example.com", first_name="Анна", last_name="Белова")
    make_client(reseller=sub_reseller, rules=sub_rules, owner=known)
    found = petr_browser.get(reverse("clients:owner_search"), {"owner-query": "бело"})
    assert f'data-user-id="{known.pk}"' in found.content.decode()
    data = person(page_data(petr_browser.get(CREATE_URL)))
    data.update({"owner-mode": "existing", "owner-query": "бело", "owner-user": str(known.pk)})
    users = User.objects.count()
    response = petr_browser.post(CREATE_URL, data)

    assert response.status_code == 302
    client = Client.objects.latest("pk")
    assert client.accesses.get(level=AccessLevel.OWNER).user == known
    assert User.objects.count() == users


def test_an_existing_owner_found_without_javascript(petr_browser, sub_rules, sub_reseller):
    known = make_user(email="anna@example.com", first_name="Анна", last_name="Белова")
    make_client(reseller=sub_reseller, rules=sub_rules, owner=known)
    page = petr_browser.get(CREATE_URL)
    found = press(petr_browser, page, "_owner_search", **{"owner-query": "anna@"})
    assert f'name="owner-pick" value="{known.pk}"' in found.content.decode()
    data = person(page_data(found), **{"owner-mode": "existing", "owner-pick": str(known.pk)})
    response = petr_browser.post(CREATE_URL, data)
    assert response.status_code == 302
    assert Client.objects.latest("pk").accesses.get().user == known


def test_a_new_owner_copied_from_the_contract_person(petr_browser, sub_rules):
    page = petr_browser.get(CREATE_URL)
    filled = person(page_data(page))
    for key in list(filled):
        if key.startswith("owner-new_"):
            filled[key] = ""
    filled["_copy_contract"] = "1"
    copied = petr_browser.post(CREATE_URL, filled)
    data = page_data(copied)
    assert data["owner-new_first_name"] == "Иван"
    assert data["owner-new_last_name"] == "Иванов"
    assert data["owner-new_middle_name"] == "Петрович"
    assert data["owner-new_email"] == "ivan@example.com"
    assert data["contacts-city"] == "Москва"  # the rest of the page is kept
    response = petr_browser.post(CREATE_URL, data)

    assert response.status_code == 302
    owner = Client.objects.get().accesses.get().user
    assert (owner.first_name, owner.middle_name, owner.last_name, owner.email) == (
        "Иван",
        "Петрович",
        "Иванов",
        "ivan@example.com",
    )
    assert not owner.has_usable_password()


def test_what_the_script_copies_is_posted_like_anything_typed(petr_browser, sub_rules):
    """With JavaScript the owner and an empty contacts email follow the
    contract person (tests/clients/test_add_client_interactions_browser.py);
    the server copies nothing by itself: without the script an empty new
    owner and an empty contacts email are still errors."""
    filled = person(page_data(petr_browser.get(CREATE_URL)), **{"contacts-email": ""})
    for key in list(filled):
        if key.startswith("owner-new_"):
            filled[key] = ""
    refused = petr_browser.post(CREATE_URL, filled)
    assert refused.status_code == 200
    assert "This field is required." in html_unescape(refused.content.decode())
    errors = page_fields(refused)
    assert errors.fields["owner-new_email"] == errors.fields["contacts-email"] == ""
    assert not Client.objects.exists()
    assert not User.objects.filter(email="ivan@example.com").exists()

    # As the script fills them: the contract person's names and email.
    filled.update(
        {
            "contacts-email": filled["contract_person-email"],
            "owner-new_first_name": filled["contract_person-first_name"],
            "owner-new_last_name": filled["contract_person-last_name"],
            "owner-new_middle_name": filled["contract_person-middle_name"],
            "owner-new_email": filled["contract_person-email"],
        }
    )
    filled["creation_token"] = page_data(refused)["creation_token"]
    response = petr_browser.post(CREATE_URL, filled)

    assert response.status_code == 302
    client = Client.objects.get()
    assert client.email == client.contract_email == "ivan@example.com"
    owner = client.accesses.get().user
    assert (owner.first_name, owner.last_name, owner.email) == (
        "Иван",
        "Иванов",
        "ivan@example.com",
    )


def test_terms_off(petr_browser, sub_rules):
    response = petr_browser.post(CREATE_URL, person(page_data(petr_browser.get(CREATE_URL))))
    assert response.status_code == 302
    client = Client.objects.get()
    assert client.terms_status == TermsStatus.NOT_REQUESTED
    assert not client.events.filter(event_type=EventType.TERMS_ACCEPTED).exists()


@pytest.fixture
def terms_on(sub_reseller):
    sub_reseller.terms_required = True
    sub_reseller.terms_url = "https://partner.example/terms"
    sub_reseller.save()


def test_terms_on_accepted_by_default(petr_browser, petr, sub_rules, terms_on):
    page = petr_browser.get(CREATE_URL)
    assert page_data(page)["agreements-accepted"] == "on"
    assert 'href="https://partner.example/terms"' in page.content.decode()
    response = petr_browser.post(CREATE_URL, person(page_data(page)))
    assert response.status_code == 302
    client = Client.objects.get()
    assert (client.terms_status, client.terms_accepted_by) == (TermsStatus.ACCEPTED, petr)
    event = client.events.get(event_type=EventType.TERMS_ACCEPTED)
    assert not event.visible_to_client


def test_terms_on_not_ticked_wait_for_the_owner(petr_browser, sub_rules, terms_on):
    data = person(page_data(petr_browser.get(CREATE_URL)))
    del data["agreements-accepted"]
    assert petr_browser.post(CREATE_URL, data).status_code == 302
    assert Client.objects.get().terms_status == TermsStatus.PENDING


def test_postpay_manually(petr_browser, petr, sub_rules, sub_reseller):
    sub_reseller.postpay_mode = PostpayMode.MANUAL
    sub_reseller.save()
    page = petr_browser.get(CREATE_URL)
    data = person(page_data(page))
    assert data["client_info-postpay_permission"] == PostpayPermission.APPROVED
    assert [value for value, _label in _options(page, "client_info-postpay_permission")] == [
        "approved",
        "not_verified",
        "approval_required",
        "declined",
    ]
    data["client_info-postpay_permission"] = PostpayPermission.APPROVAL_REQUIRED
    assert petr_browser.post(CREATE_URL, data).status_code == 302
    client = Client.objects.get()
    assert client.postpay_permission == PostpayPermission.APPROVAL_REQUIRED
    assert client.postpay_decided_at is None


def test_creating_reads_and_writes_a_bounded_number_of_times(
    petr_browser, sub_rules, django_assert_max_num_queries
):
    data = person(page_data(petr_browser.get(CREATE_URL)))
    # 47: the new owner's email is checked by the form and again by the
    # service, each reading the manager's recent checks (the probe's limit).
    with django_assert_max_num_queries(47):
        response = petr_browser.post(CREATE_URL, data)
    assert response.status_code == 302


def test_the_event_log_names_the_manager(petr_browser, petr, sub_rules):
    petr_browser.post(CREATE_URL, person(page_data(petr_browser.get(CREATE_URL))))
    event = ClientEvent.objects.get(event_type=EventType.CLIENT_CREATED)
    assert event.actor == petr.user
    assert str(petr) in event.description


# The type switch ------------------------------------------------------------------------------


def test_the_type_partial_swaps_company_name_and_attributes(petr_browser, sub_rules):
    data = person(page_data(petr_browser.get(CREATE_URL)))
    data["client_info-client_type"] = str(sub_rules["company"].pk)
    response = petr_browser.post(reverse("clients:create_type"), data, HTTP_HX_REQUEST="true")
    html = response.content.decode()
    assert response.status_code == 200
    assert html.lstrip().startswith('<div id="company-name-slot">')
    assert 'name="client_info-company_name"' in html
    assert 'id="section-attributes"' in html and 'hx-swap-oob="true"' in html
    assert 'name="attributes-inn"' in html
    assert 'name="attributes-passport_series"' not in html
    assert 'name="contacts-city"' not in html  # the other sections stay as they are


def test_applying_a_type_without_javascript_keeps_what_was_typed(petr_browser, sub_rules):
    page = petr_browser.get(CREATE_URL)
    filled = person(page_data(page), **{"attributes-passport_series": "9999"})
    filled["client_info-client_type"] = str(sub_rules["company"].pk)
    filled["_apply_type"] = "1"
    applied = petr_browser.post(CREATE_URL, filled)
    data = page_data(applied)
    assert Client.objects.count() == 0
    assert "error-summary" not in applied.content.decode()
    assert data["client_info-client_type"] == str(sub_rules["company"].pk)
    assert data["client_info-company_name"] == ""
    assert data["contacts-city"] == "Москва"
    assert data["owner-new_email"] == "maria@example.com"
    assert data["creation_token"] == filled["creation_token"]
    assert "attributes-passport_series" not in data
    # And back: the person's attributes return empty, the rest is still there.
    data["client_info-client_type"] = str(sub_rules["person"].pk)
    data["client_info-company_name"] = "Ромашка"
    data["_apply_type"] = "1"
    back = page_data(petr_browser.post(CREATE_URL, data))
    assert back["attributes-passport_series"] == ""
    assert "client_info-company_name" not in back
    assert back["contract_person-first_name"] == "Иван"


# Owner search ---------------------------------------------------------------------------------


def test_owner_search_needs_three_characters(petr_browser, sub_rules, sub_reseller):
    make_client(reseller=sub_reseller, rules=sub_rules, owner=make_user(email="abc@example.com"))
    url = reverse("clients:owner_search")
    for query in ["a", "ab", " a b "]:
        html = petr_browser.get(url, {"owner-query": query}).content.decode()
        assert "data-user-id" not in html, query
        assert "Type at least 3 characters." in html, query
    html = petr_browser.get(url, {"owner-query": "ab"}, HTTP_ACCEPT_LANGUAGE="ru").content.decode()
    assert "Введите не менее 3 символов." in html
    assert "data-user-id" in petr_browser.get(url, {"owner-query": "abc"}).content.decode()


def test_owner_search_by_name_or_email_in_the_resellers_reach(
    petr_browser, sub_rules, sub_reseller, root_reseller, root_rules
):
    mine = make_user(email="olga@example.com", first_name="Ольга", last_name="Смирнова")
    make_client(reseller=sub_reseller, rules=sub_rules, owner=mine)
    theirs = make_user(email="olga2@example.com", first_name="Ольга", last_name="Петрова")
    make_client(reseller=root_reseller, rules=root_rules, owner=theirs)
    loner = make_user(email="olga3@example.com", first_name="Ольга", last_name="Одинокая")
    url = reverse("clients:owner_search")
    for query in ["ольга", "ОЛЬГА", "olga@", "Смирнова ольга", "Olga@Example"]:
        html = petr_browser.get(url, {"owner-query": query}).content.decode()
        assert f'data-user-id="{mine.pk}"' in html, query
        assert f'data-user-id="{theirs.pk}"' not in html
        assert f'data-user-id="{loner.pk}"' not in html
    assert "No users found." in petr_browser.get(url, {"owner-query": "zzz"}).content.decode()


def test_the_root_resellers_owner_search_reaches_everyone(irina_browser, irina):
    loner = make_user(email="loner@example.com", first_name="Лев", last_name="Одинокий")
    html = irina_browser.get(reverse("clients:owner_search"), {"q": "одино"}).content.decode()
    assert f'data-user-id="{loner.pk}"' in html


def test_owner_search_shows_at_most_twenty(irina_browser, irina, django_assert_max_num_queries):
    for number in range(25):
        make_user(email=f"many{number}@example.com", password=None)
    # The session, the user, the manager, the role's permissions (two), one
    # search and the session's update.
    with django_assert_max_num_queries(8):
        html = irina_browser.get(reverse("clients:owner_search"), {"q": "many"}).content.decode()
    assert html.count('role="option"') == 20


def test_a_taken_email_offers_to_select_that_user(petr_browser, sub_rules, sub_reseller):
    known = make_user(email="anna@example.com", first_name="Анна", last_name="Белова")
    make_client(reseller=sub_reseller, rules=sub_rules, owner=known)
    data = person(
        page_data(petr_browser.get(CREATE_URL)), **{"owner-new_email": "ANNA@example.com"}
    )
    response = petr_browser.post(CREATE_URL, data)
    html = response.content.decode()
    assert "select this user as the owner instead" in html
    assert f'name="owner-select_user" value="{known.pk}"' in html
    # Pressing it (without JavaScript) switches the owner to that user.
    chosen = press(petr_browser, response, "owner-select_user", str(known.pk))
    chosen_data = page_data(chosen)
    assert chosen_data["owner-mode"] == "existing"
    assert chosen_data["owner-user"] == str(known.pk)
    assert "Белова Анна" in chosen.content.decode()
    assert petr_browser.post(CREATE_URL, chosen_data).status_code == 302
    assert Client.objects.latest("pk").accesses.get().user == known


# Double submit -----------------------------------------------------------------------------


def test_a_second_submit_of_the_same_page_leads_to_the_first_client(petr_browser, sub_rules):
    data = person(page_data(petr_browser.get(CREATE_URL)))
    first = petr_browser.post(CREATE_URL, data)
    second = petr_browser.post(CREATE_URL, data)
    client = Client.objects.get()
    assert first["Location"] == second["Location"] == reverse("clients:detail", args=[client.pk])
    assert messages_of(second)[-1] == "This client was already created from this page."
    assert ClientAccess.objects.count() == 1 + 0  # the new client's owner only


def test_each_page_has_its_own_token(petr_browser, sub_rules):
    first = page_data(petr_browser.get(CREATE_URL))["creation_token"]
    second = page_data(petr_browser.get(CREATE_URL))["creation_token"]
    assert first != second


def test_another_manager_of_the_reseller_also_lands_on_the_first_client(
    petr_browser, client, sub_rules, sub_reseller
):
    data = person(page_data(petr_browser.get(CREATE_URL)))
    petr_browser.post(CREATE_URL, data)
    colleague = make_manager(reseller=sub_reseller)
    client.force_login(colleague.user)
    response = client.post(CREATE_URL, data)
    assert response.status_code == 302
    assert Client.objects.count() == 1
