"""POST accounts through client_create: what is written, the API's
defaults, the manager key, each rule's error with its pointer and nothing
saved, reach, and the same rule's message from the page and the API."""

import pytest
from django.utils import translation
from django_tasks_db.models import DBTaskResult

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
from tests.api.conftest import ApiClient, codes, pointers, token_for
from tests.clients.test_client_create_page import VALID_INN, company_page, page_data, person
from tests.clients.test_client_create_page_errors import field_errors, submit
from tests.conftest import make_client, make_manager, make_user
from users.models import ManagerRole, ManagerStatus, PostpayMode, User

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def notifications_on(client_created_handler):
    """Creating a client queues its "client created" email."""


def url(reseller) -> str:
    return f"/api/v3/resellers/{reseller.pk}/accounts"


def company(rules, **extra) -> dict:
    attributes = {
        "account_type_id": rules["company"].pk,
        "primary_name": "Северный ветер",
        "first_name": "Анна",
        "last_name": "Петрова",
        "email": "anna@veter.example",
        "owner": {"first_name": "Олег", "last_name": "Сидоров", "email": "owner@veter.example"},
        "country": "RU",
        "city": "Москва",
        "address_line1": "ул. Тверская, 1",
        "phone": "+7 916 123-45-67",
        "contact_email": "office@veter.example",
        "custom_attributes": [{"key": "inn", "value": VALID_INN}],
    }
    attributes.update(extra)
    return {"data": {"type": "accounts", "attributes": attributes}}


def person_body(rules, **extra) -> dict:
    attributes = {
        "account_type_id": rules["person"].pk,
        "first_name": "Иван",
        "middle_name": "Петрович",
        "last_name": "Иванов",
        "email": "ivan@example.com",
        "city": "Москва",
        "address_line1": "ул. Ленина, 2",
        "phone": "+79161234567",
        "contact_email": "ivan@example.com",
        "custom_attributes": [
            {"key": "passport_series", "value": "4510"},
            {"key": "passport_number", "value": "123456"},
        ],
    }
    attributes.update(extra)
    return {"data": {"type": "accounts", "attributes": attributes}}


def counts() -> tuple:
    return (
        Client.objects.count(),
        User.objects.count(),
        ClientAccess.objects.count(),
        ClientEvent.objects.count(),
        Delivery.objects.count(),
        DBTaskResult.objects.count(),
    )


def rejected(api, reseller, body, *, status=422, **extra):
    before = counts()
    response = api.post(url(reseller), body, **extra)
    assert response.status_code == status, response.content
    assert counts() == before
    return response


def test_a_company_with_a_new_owner(irina, irina_api, root_reseller, root_rules):
    response = irina_api.post(url(root_reseller), company(root_rules))
    assert response.status_code == 201, response.content
    body = response.json()
    client = Client.objects.get()
    assert body["data"]["id"] == str(client.pk)
    assert response["Location"] == body["data"]["links"]["self"]
    assert response["Location"].endswith(
        f"/api/v3/resellers/{root_reseller.pk}/accounts/{client.pk}"
    )
    assert body["meta"] == {"warnings": []}
    attributes = body["data"]["attributes"]
    assert attributes["name"] == "Северный ветер" and attributes["phone"] == "+79161234567"
    assert attributes["custom_attributes"] == [{"key": "inn", "value": VALID_INN}]
    assert attributes["owner_email"] == "owner@veter.example"
    assert (client.reseller, client.created_by) == (root_reseller, irina.user)
    owner = ClientAccess.objects.get(client=client, level=AccessLevel.OWNER).user
    assert (owner.email, owner.has_usable_password()) == ("owner@veter.example", False)
    # The platform's defaults: terms not accepted by anyone, postpay not verified.
    assert client.terms_accepted_at is None
    assert client.postpay_permission == PostpayPermission.NOT_VERIFIED
    created = ClientEvent.objects.get(client=client, event_type=EventType.CLIENT_CREATED)
    assert created.data["via"] == "api" and created.data["token"] == "test"
    with translation.override("en"):
        from clients.events import event_wording

        assert "through the API" in event_wording(created.event_type, created.data)[1]
        assert "“test”" in event_wording(created.event_type, created.data)[1]
    delivery = Delivery.objects.get(client=client)
    assert (delivery.event, delivery.recipient) == (EventType.CLIENT_CREATED, "owner@veter.example")
    # Found by its INN and read.
    found = irina_api.get(url(root_reseller) + f"?filter[inn]={VALID_INN}").json()["data"]
    assert [item["id"] for item in found] == [str(client.pk)]


def test_a_person_whose_contract_person_becomes_the_owner(irina_api, root_reseller, root_rules):
    response = irina_api.post(url(root_reseller), person_body(root_rules))
    assert response.status_code == 201, response.content
    client = Client.objects.get()
    owner = ClientAccess.objects.get(client=client).user
    assert (owner.email, owner.first_name, owner.middle_name) == (
        "ivan@example.com",
        "Иван",
        "Петрович",
    )
    assert client.name == "Иванов Иван Петрович"
    assert client.country == "RU"  # the reseller's default country


def test_an_existing_owner(irina_api, root_reseller, root_rules):
    user = make_user(email="existing@example.com")
    response = irina_api.post(url(root_reseller), person_body(root_rules, owner_id=user.pk))
    assert response.status_code == 201, response.content
    assert ClientAccess.objects.get(level=AccessLevel.OWNER).user == user


def test_terms_stay_unaccepted_unless_the_body_accepts(petr_api, sub_reseller, sub_rules):
    sub_reseller.terms_required = True
    sub_reseller.terms_url = "https://example.com/terms"
    sub_reseller.save()
    assert petr_api.post(url(sub_reseller), person_body(sub_rules)).status_code == 201
    assert Client.objects.get().terms_status == TermsStatus.PENDING
    body = person_body(sub_rules, email="two@example.com", terms_accepted=True)
    assert petr_api.post(url(sub_reseller), body).status_code == 201
    assert Client.objects.latest("pk").terms_status == TermsStatus.ACCEPTED


def test_postpay_defaults_and_who_may_decide(root_reseller, root_rules, irina):
    root_reseller.postpay_mode = PostpayMode.MANUAL
    root_reseller.save()
    sales = ApiClient(token_for(make_manager(reseller=root_reseller, role=ManagerRole.SALES)))
    assert sales.post(url(root_reseller), person_body(root_rules)).status_code == 201
    assert Client.objects.get().postpay_permission == PostpayPermission.NOT_VERIFIED
    response = rejected(
        sales,
        root_reseller,
        person_body(root_rules, email="b@example.com", postpay_permission="approved"),
        status=403,
    )
    assert pointers(response) == {"/data/attributes/postpay_permission": "postpay_not_allowed"}
    owner_api = ApiClient(token_for(irina))  # a product owner may decide
    body = person_body(root_rules, email="c@example.com", postpay_permission="approved")
    assert owner_api.post(url(root_reseller), body).status_code == 201
    assert Client.objects.latest("pk").postpay_permission == PostpayPermission.APPROVED


def test_manager_key_binds_an_active_manager(irina_api, root_reseller, root_rules):
    anna = make_manager(reseller=root_reseller)
    response = irina_api.post(url(root_reseller), person_body(root_rules, manager_key=anna.key))
    assert response.status_code == 201
    assert response.json()["meta"]["warnings"] == []
    assert Client.objects.get().manager == anna


@pytest.mark.parametrize("case", ["inactive", "unknown", "other_reseller"])
def test_manager_key_that_cannot_bind_leaves_no_manager_and_says_why(
    case, irina_api, root_reseller, root_rules, sub_reseller
):
    if case == "inactive":
        key = make_manager(reseller=root_reseller, status=ManagerStatus.INACTIVE).key
    elif case == "other_reseller":
        key = make_manager(reseller=sub_reseller).key
    else:
        key = "nobody"
    response = irina_api.post(url(root_reseller), person_body(root_rules, manager_key=key))
    assert response.status_code == 201, response.content
    (warning,) = response.json()["meta"]["warnings"]
    assert warning["code"] == (
        "manager_key_inactive" if case == "inactive" else "manager_key_unknown"
    )
    assert warning["source"] == {"pointer": "/data/attributes/manager_key"}
    assert Client.objects.get().manager is None


def test_root_creates_for_a_downstream_reseller(irina_api, sub_reseller, sub_rules):
    response = irina_api.post(url(sub_reseller), person_body(sub_rules))
    assert response.status_code == 201, response.content
    assert Client.objects.get().reseller == sub_reseller


def test_a_sub_reseller_cannot_create_for_its_parent(petr_api, root_reseller, root_rules):
    response = rejected(petr_api, root_reseller, person_body(root_rules), status=404)
    assert codes(response) == ["not_found"]


def test_another_resellers_type_is_not_found(irina_api, root_reseller, root_rules, sub_rules):
    body = person_body(root_rules, account_type_id=sub_rules["person"].pk)
    response = rejected(irina_api, root_reseller, body)
    assert pointers(response) == {"/data/attributes/account_type_id": "not_found"}


@pytest.mark.parametrize(
    ("change", "pointer", "code"),
    [
        ({"primary_name": "ооо Ветер"}, "/data/attributes/primary_name", "forbidden_abbreviation"),
        (
            {"custom_attributes": [{"key": "inn", "value": "7707083894"}]},
            "/data/attributes/custom_attributes/0/value",
            "inn_checksum",
        ),
        ({"city": ""}, "/data/attributes/city", "required"),
        ({"phone": "12"}, "/data/attributes/phone", "invalid_phone"),
        ({"region": "Республика Крым"}, "/data/attributes/region", "forbidden_region"),
        ({"contact_email": "not-an-email"}, "/data/attributes/contact_email", "invalid"),
        ({"first_name": ""}, "/data/attributes/first_name", "required"),
        ({"country": "ZZ"}, "/data/attributes/country", None),
        ({"primary_name": ""}, "/data/attributes/primary_name", "required"),
        (
            {
                "custom_attributes": [
                    {"key": "inn", "value": VALID_INN},
                    {"key": "nope", "value": ""},
                ]
            },
            "/data/attributes/custom_attributes/1/key",
            "unknown_attribute",
        ),
        ({"custom_attributes": []}, "/data/attributes/custom_attributes/0/value", None),
        ({"city": "x" * 151}, "/data/attributes/city", None),
    ],
)
def test_each_rule_points_at_its_attribute(
    irina_api, root_reseller, root_rules, change, pointer, code
):
    response = rejected(irina_api, root_reseller, company(root_rules, **change))
    found = pointers(response)
    if pointer.endswith("/0/value") and not change.get("custom_attributes"):
        # A required attribute the body left out points at the list.
        pointer = "/data/attributes/custom_attributes"
    assert pointer in found, found
    if code is not None:
        assert found[pointer] == code
    for error in response.json()["errors"]:
        assert error["status"] == "422" and error["title"] and error["detail"]


def test_several_errors_at_once(irina_api, root_reseller, root_rules):
    response = rejected(
        irina_api, root_reseller, company(root_rules, city="", phone="12", primary_name="ООО Ветер")
    )
    assert {
        "/data/attributes/city",
        "/data/attributes/phone",
        "/data/attributes/primary_name",
    } <= set(pointers(response))


def test_a_new_owners_email_that_exists(irina_api, root_reseller, root_rules):
    make_client(
        reseller=root_reseller, rules=root_rules, owner=make_user(email="owner@veter.example")
    )
    response = rejected(irina_api, root_reseller, company(root_rules))
    assert "/data/attributes/owner/email" in pointers(response)


def test_the_contract_person_as_owner_points_at_the_contract_email(
    irina_api, root_reseller, root_rules
):
    make_client(reseller=root_reseller, rules=root_rules, owner=make_user(email="ivan@example.com"))
    response = rejected(irina_api, root_reseller, person_body(root_rules))
    assert "/data/attributes/email" in pointers(response)


def test_an_unreachable_existing_owner(petr_api, sub_reseller, sub_rules):
    stranger = make_user(email="stranger@example.com")
    response = rejected(petr_api, sub_reseller, person_body(sub_rules, owner_id=stranger.pk))
    assert "/data/attributes/owner_id" in pointers(response)


def test_an_inactive_manager_id(irina_api, root_reseller, root_rules):
    inactive = make_manager(reseller=root_reseller, status=ManagerStatus.INACTIVE)
    response = rejected(irina_api, root_reseller, person_body(root_rules, manager_id=inactive.pk))
    assert "/data/attributes/manager_id" in pointers(response)


def test_owner_and_owner_id_together(irina_api, root_reseller, root_rules):
    user = make_user()
    body = company(root_rules, owner_id=user.pk)
    response = rejected(irina_api, root_reseller, body)
    assert pointers(response)["/data/attributes/owner_id"] == "owner_conflict"


def test_the_same_rule_from_the_page_and_the_api(petr, petr_browser, sub_reseller, sub_rules):
    """One validator: the forbidden-abbreviation message the page shows beside
    the company name is the detail the API points at primary_name (both in
    Russian, the panel's language)."""
    data = person(
        page_data(company_page(petr_browser)),
        **{"client_info-company_name": "ооо Ромашка", "attributes-inn": VALID_INN},
    )
    page_message = field_errors(submit(petr_browser, data), "id_client_info-company_name")
    api = ApiClient(token_for(petr), language="ru")
    response = rejected(api, sub_reseller, company(sub_rules, primary_name="ооо Ромашка"))
    (error,) = [
        error
        for error in response.json()["errors"]
        if error["source"]["pointer"] == "/data/attributes/primary_name"
    ]
    assert error["code"] == "forbidden_abbreviation"
    assert error["detail"] in page_message
    assert "запрещенное сокращение «ооо»" in error["detail"]


def test_the_client_page_says_created_through_the_api(
    irina_api, irina_browser, root_reseller, root_rules
):
    from django.urls import reverse

    assert irina_api.post(url(root_reseller), person_body(root_rules)).status_code == 201
    page = irina_browser.get(reverse("clients:detail", args=[Client.objects.get().pk]))
    assert "Создан через API менеджером Смирнова Ирина с токеном «test»." in page.content.decode()


def test_a_storefront_link_template_needs_the_placeholder(root_reseller):
    from django.core.exceptions import ValidationError

    from api.models import StorefrontLink

    with pytest.raises(ValidationError):
        StorefrontLink(reseller=root_reseller, link_template="https://store.example/").full_clean()
    with pytest.raises(ValidationError):
        StorefrontLink(
            reseller=root_reseller, link_template="javascript:{manager_key}"
        ).full_clean()
    StorefrontLink(
        reseller=root_reseller, link_template="https://store.example/?manager_key={manager_key}"
    ).full_clean()
