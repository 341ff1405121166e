"""clients.services.client_create: every rule, each failing case leaving
nothing behind (no client, user, access, attribute value, event or queued
notification)."""

import uuid
from dataclasses import replace

import pytest
from django.apps import apps
from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django_tasks_db.models import DBTaskResult

from clients import selectors, services
from clients.inputs import Agreements, ClientInfo, Contacts, ContractPerson, ExistingOwner, NewOwner
from clients.models import (
    AccessLevel,
    Client,
    ClientAccess,
    ClientAttributeValue,
    ClientEvent,
    ClientStatus,
    EventType,
    PostpayPermission,
    TermsStatus,
)
from clients.services import DuplicateSubmission
from notifications.models import Delivery
from rules.models import Attribute, AttributeOption, AttributeValueType
from tests.conftest import VALID_INN, VALID_KPP, VALID_OGRN, make_client, make_manager, make_user
from users.models import PostpayMode, User

pytestmark = pytest.mark.usefixtures("english")


@pytest.fixture(autouse=True)
def notifications_on(client_created_handler):
    """A handler exists, so a created client queues its notification and a
    rejected one must not."""


def written() -> dict[str, int]:
    """How many rows of everything client_create may write."""
    counts = {
        "clients": Client.objects.count(),
        "users": User.objects.count(),
        "accesses": ClientAccess.objects.count(),
        "values": ClientAttributeValue.objects.count(),
        "events": ClientEvent.objects.count(),
        "tasks": DBTaskResult.objects.count(),
    }
    for model in apps.get_app_config("notifications").get_models():
        counts[model._meta.label] = model.objects.count()
    return counts


def arguments(
    rules: dict,
    *,
    client_info: dict | None = None,
    contacts: dict | None = None,
    contract_person: dict | None = None,
    **overrides,
) -> dict:
    """A valid private person for the reseller of ``rules``; the dicts
    change fields of their section, the other keywords replace arguments."""
    values = {
        "client_info": ClientInfo(client_type=rules["person"], service_rule=rules["standard"]),
        "contacts": Contacts(
            country="RU",
            region="Москва",
            city="Москва",
            postal_code="125009",
            address_line1="ул. Тверская, 1",
            phone="+7 916 123-45-67",
            email="ivanov@example.com",
        ),
        "contract_person": ContractPerson(
            first_name="Иван",
            middle_name="Петрович",
            last_name="Иванов",
            email="ivanov@example.com",
        ),
        "owner": NewOwner(first_name="Иван", last_name="Иванов", email="Owner@Example.com"),
        "attributes": {"passport_series": "4510", "passport_number": "123456"},
    }
    for section, changes in (
        ("client_info", client_info),
        ("contacts", contacts),
        ("contract_person", contract_person),
    ):
        if changes:
            values[section] = replace(values[section], **changes)
    values.update(overrides)
    return values


def company_arguments(
    rules: dict, *, company_name: str = "Ромашка", client_info: dict | None = None, **overrides
) -> dict:
    overrides.setdefault("attributes", {"inn": VALID_INN, "kpp": VALID_KPP, "ogrn": VALID_OGRN})
    return arguments(
        rules,
        client_info={
            "client_type": rules["company"],
            "company_name": company_name,
            **(client_info or {}),
        },
        **overrides,
    )


def client_create(*, actor, **kwargs):
    """services.client_create for the actor's own reseller unless told."""
    kwargs.setdefault("reseller", actor.reseller)
    return services.client_create(actor=actor, **kwargs)


def assert_rejected(actor, expected: dict[str, str], **kwargs) -> ValidationError:
    """client_create fails with each expected message on its field and writes nothing."""
    before = written()
    with pytest.raises(ValidationError) as caught:
        client_create(actor=actor, **kwargs)
    errors = caught.value.message_dict
    for field, message in expected.items():
        assert field in errors, errors
        assert any(message in text for text in errors[field]), errors[field]
    assert written() == before
    return caught.value


# Success ---------------------------------------------------------------------------


def test_creates_a_private_person_with_a_new_owner(petr, sub_rules):
    before = written()
    client = client_create(actor=petr, **arguments(sub_rules))

    client.refresh_from_db()
    assert client.reseller == petr.reseller
    assert client.status == ClientStatus.ACTIVE
    assert client.name == "Иванов Иван Петрович"
    assert client.company_name == ""
    assert client.phone == "+79161234567"
    assert client.created_by == petr.user
    assert client.terms_status == TermsStatus.NOT_REQUESTED
    assert client.postpay_permission == PostpayPermission.NOT_VERIFIED
    owner = User.objects.get(email__iexact="owner@example.com")
    assert owner.email == "Owner@example.com"  # the domain is normalised, the name kept
    assert not owner.has_usable_password()
    access = ClientAccess.objects.get(client=client)
    assert (access.user, access.level) == (owner, AccessLevel.OWNER)
    assert {value.attribute.key: value.value for value in client.attribute_values.all()} == {
        "passport_series": "4510",
        "passport_number": "123456",
    }
    event = ClientEvent.objects.get(client=client)
    assert event.event_type == EventType.CLIENT_CREATED
    assert event.actor == petr.user and event.visible_to_client
    after = written()
    assert after["clients"] == before["clients"] + 1
    assert after["users"] == before["users"] + 1


def test_queues_the_client_created_notification_in_the_same_transaction(petr, sub_rules):
    client = client_create(actor=petr, **arguments(sub_rules))
    delivery = Delivery.objects.get(client=client)
    assert (delivery.event, delivery.recipient) == (EventType.CLIENT_CREATED, "Owner@example.com")
    assert delivery.actor == petr.user
    assert DBTaskResult.objects.filter(id=delivery.task_id).exists()


def test_calls_notify_with_the_event_client_and_actor(petr, sub_rules, monkeypatch):
    calls = []
    monkeypatch.setattr(services.events, "notify", lambda **kwargs: calls.append(kwargs))
    client = client_create(actor=petr, **arguments(sub_rules))
    assert calls == [
        {
            "event": EventType.CLIENT_CREATED,
            "client": client,
            "actor": petr.user,
            "recipients": None,  # the owner
            "log_entry": ClientEvent.objects.get(client=client),
        }
    ]


def test_a_failing_notification_leaves_nothing_behind(petr, sub_rules, monkeypatch):
    def broken(**kwargs):
        raise RuntimeError("the queue is down")

    monkeypatch.setattr(services.events, "notify", broken)
    before = written()
    with pytest.raises(RuntimeError):
        client_create(actor=petr, **arguments(sub_rules))
    assert written() == before


def test_creates_a_company_named_by_its_company_name(petr, sub_rules):
    client = client_create(actor=petr, **company_arguments(sub_rules, company_name=" Ромашка "))
    assert (client.company_name, client.name) == ("Ромашка", "Ромашка")
    assert {value.attribute.key: value.value for value in client.attribute_values.all()} == {
        "inn": VALID_INN,
        "kpp": VALID_KPP,
        "ogrn": VALID_OGRN,
    }


def test_an_existing_owner_gets_the_owner_access(petr, sub_rules, sub_reseller):
    known = make_user(email="known@example.com")
    make_client(reseller=sub_reseller, rules=sub_rules, owner=known)
    users = User.objects.count()
    client = client_create(
        actor=petr, **arguments(sub_rules, owner=ExistingOwner(user_id=known.pk))
    )
    assert User.objects.count() == users
    assert client.accesses.get().user == known


def test_the_root_reseller_reaches_every_user(irina, root_rules):
    stranger = make_user(email="stranger@example.com")
    client = client_create(
        actor=irina, **arguments(root_rules, owner=ExistingOwner(user_id=stranger.pk))
    )
    assert client.accesses.get(level=AccessLevel.OWNER).user == stranger


def test_a_manager_of_the_reseller_is_assigned(petr, sub_rules):
    client = client_create(actor=petr, **arguments(sub_rules, client_info={"manager": petr}))
    assert client.manager == petr


def test_phone_without_plus_is_read_in_the_chosen_country(petr, sub_rules):
    client = client_create(
        actor=petr, **arguments(sub_rules, contacts={"phone": "8 (916) 123-45-67"})
    )
    assert client.phone == "+79161234567"


def test_display_name_falls_back_to_the_contract_person(petr, sub_rules):
    person = sub_rules["person"]
    person.name_pattern = "%primary_name"
    person.save()
    client = client_create(actor=petr, **arguments(sub_rules))
    assert client.name == "Иванов Иван"


# Scoping to the actor's reseller ---------------------------------------------------------


def test_another_resellers_client_type_is_rejected(petr, sub_rules, root_rules):
    assert_rejected(
        petr,
        {"client_info.client_type": "Select a client type of your reseller."},
        **arguments(sub_rules, client_info={"client_type": root_rules["person"]}),
    )


def test_another_resellers_service_rule_is_rejected(petr, sub_rules, root_rules):
    assert_rejected(
        petr,
        {"client_info.service_rule": "Select a service rule of your reseller."},
        **arguments(sub_rules, client_info={"service_rule": root_rules["vip"]}),
    )


def test_another_resellers_manager_is_rejected(petr, irina, sub_rules):
    assert_rejected(
        petr,
        {"client_info.manager": "Select a manager of your reseller."},
        **arguments(sub_rules, client_info={"manager": irina}),
    )


def test_an_inactive_manager_is_rejected(petr, oleg, sub_rules):
    assert_rejected(
        petr,
        {"client_info.manager": "Select an active manager."},
        **arguments(sub_rules, client_info={"manager": oleg}),
    )


def test_an_inactive_actor_creates_nothing(oleg, sub_rules):
    assert_rejected(
        oleg,
        {NON_FIELD_ERRORS: "Only an active manager can create clients."},
        **arguments(sub_rules),
    )


def test_an_owner_out_of_the_resellers_reach_is_rejected(
    petr, sub_rules, root_reseller, root_rules
):
    outsider = make_user(email="outsider@example.com")
    make_client(reseller=root_reseller, rules=root_rules, owner=outsider)
    assert_rejected(
        petr,
        {"owner.user": "Select a user of your reseller's clients."},
        **arguments(sub_rules, owner=ExistingOwner(user_id=outsider.pk)),
    )


# Client information ----------------------------------------------------------------------


def test_a_company_needs_its_company_name(petr, sub_rules):
    assert_rejected(
        petr,
        {"client_info.company_name": "This field is required."},
        **company_arguments(sub_rules, company_name="  "),
    )


def test_a_private_person_has_no_company_name(petr, sub_rules):
    assert_rejected(
        petr,
        {"client_info.company_name": "This client type has no company name."},
        **arguments(sub_rules, client_info={"company_name": "Ромашка"}),
    )


@pytest.mark.parametrize(
    ("company_name", "message"),
    [
        ("Ромашка$", "forbidden characters: “$”"),
        ("Ромашка <Плюс> #1", "forbidden characters: “<”, “>”, “#”"),
        ("ооо Ромашка", "forbidden abbreviation “ооо”"),
        ("Ромашка, LLC", "forbidden abbreviation “LLC”"),
        ("Romashka.ru", "forbidden domain “Romashka.ru”"),
        ("Ромашка shop.COM", "forbidden domain “shop.COM”"),
    ],
)
def test_forbidden_parts_of_company_names_are_quoted(petr, sub_rules, company_name, message):
    assert_rejected(
        petr,
        {"client_info.company_name": message},
        **company_arguments(sub_rules, company_name=company_name),
    )


@pytest.mark.parametrize("company_name", ["Зоопарк", "ОООМега", "Romashka.rus", "Ромашка LLCX"])
def test_forbidden_parts_match_whole_words_only(petr, sub_rules, company_name):
    client = client_create(actor=petr, **company_arguments(sub_rules, company_name=company_name))
    assert client.company_name == company_name


def test_postpay_permission_is_chosen_in_manual_mode(petr, sub_rules, sub_reseller):
    sub_reseller.postpay_mode = PostpayMode.MANUAL
    sub_reseller.save()
    client = client_create(
        actor=petr,
        **arguments(sub_rules, client_info={"postpay_permission": PostpayPermission.APPROVED}),
    )
    assert client.postpay_permission == PostpayPermission.APPROVED
    # A manual approval is a decision: it no longer changes.
    assert client.postpay_decided_by == petr.user and client.postpay_decided_at is not None


def test_postpay_not_verified_is_no_decision(petr, sub_rules, sub_reseller):
    sub_reseller.postpay_mode = PostpayMode.MANUAL
    sub_reseller.save()
    client = client_create(
        actor=petr,
        **arguments(sub_rules, client_info={"postpay_permission": PostpayPermission.NOT_VERIFIED}),
    )
    assert client.postpay_permission == PostpayPermission.NOT_VERIFIED
    assert client.postpay_decided_at is None


def test_postpay_permission_is_required_in_manual_mode(petr, sub_rules, sub_reseller):
    sub_reseller.postpay_mode = PostpayMode.MANUAL
    sub_reseller.save()
    assert_rejected(
        petr,
        {"client_info.postpay_permission": "Select the postpay permission."},
        **arguments(sub_rules, client_info={"postpay_permission": "maybe"}),
    )


def test_postpay_permission_is_not_chosen_in_automatic_mode(petr, sub_rules):
    assert_rejected(
        petr,
        {"client_info.postpay_permission": "Postpay is allowed automatically for this reseller."},
        **arguments(sub_rules, client_info={"postpay_permission": PostpayPermission.APPROVED}),
    )


# Contacts ------------------------------------------------------------------------------------


def test_a_country_outside_the_allowed_ones_is_rejected(petr, sub_rules, sub_reseller):
    sub_reseller.allowed_countries = ["RU", "BY"]
    sub_reseller.save()
    assert_rejected(
        petr,
        {"contacts.country": "Select one of the countries your reseller serves."},
        **arguments(sub_rules, contacts={"country": "US", "phone": "+1 212 555 0100"}),
    )


@pytest.mark.parametrize(
    ("region", "entry"),
    [
        ("Республика Крым", "Крым"),
        ("  республика   КРЫМ ", "Крым"),
        ("Республика-Крым", "Крым"),
        ("Respublika Krym", "Крым"),
        ("Автономна Республіка Крим", "Крым"),  # крим and крым spell alike
        ("Crimea", "Crimea"),
        ("Republic of Crimea", "Crimea"),
        ("г. Севастополь", "Севастополь"),
        ("Sevastopol'", "Севастополь"),
    ],
)
def test_forbidden_regions_are_rejected_in_any_spelling(petr, sub_rules, region, entry):
    assert_rejected(
        petr,
        {"contacts.region": f"it is on the forbidden list as “{entry}”"},
        **arguments(sub_rules, contacts={"region": region}),
    )


def test_region_message_quotes_the_region(petr, sub_rules):
    error = assert_rejected(petr, {}, **arguments(sub_rules, contacts={"region": "Крым"}))
    assert error.message_dict["contacts.region"] == [
        "Clients from the region “Крым” cannot be served: it is on the forbidden list as “Крым”."
    ]


def test_a_town_that_only_sounds_alike_is_allowed(petr, sub_rules):
    client = client_create(
        actor=petr, **arguments(sub_rules, contacts={"region": "Краснодарский край, Крымск"})
    )
    assert client.region == "Краснодарский край, Крымск"


def test_latin_contacts_reject_cyrillic_and_offer_the_transliteration(
    petr, sub_rules, sub_reseller
):
    sub_reseller.latin_contacts = True
    sub_reseller.save()
    error = assert_rejected(
        petr,
        {
            "contacts.city": "Suggested: “Moskva”.",
            "contacts.address_line1": "Suggested: “ul. Tverskaya, 1”.",
        },
        **arguments(sub_rules, contacts={"region": "Moscow"}),
    )
    (city_error,) = error.error_dict["contacts.city"]
    assert city_error.code == "not_latin"
    assert city_error.params == {"suggestion": "Moskva"}


def test_latin_contacts_accept_ascii(petr, sub_rules, sub_reseller):
    sub_reseller.latin_contacts = True
    sub_reseller.save()
    client = client_create(
        actor=petr,
        **arguments(
            sub_rules,
            contacts={"region": "Moscow", "city": "Moskva", "address_line1": "Tverskaya 1"},
        ),
    )
    assert client.city == "Moskva"


@pytest.mark.parametrize(
    ("phone", "message"),
    [
        ("not a phone", "Enter the phone number in international format"),
        ("+7 000 000-00-00", "This phone number does not exist"),
    ],
)
def test_invalid_phones_are_rejected(petr, sub_rules, phone, message):
    assert_rejected(
        petr, {"contacts.phone": message}, **arguments(sub_rules, contacts={"phone": phone})
    )


@pytest.mark.parametrize(
    ("section", "field"),
    [
        ("contacts", "city"),
        ("contacts", "address_line1"),
        ("contacts", "email"),
        ("contract_person", "first_name"),
        ("contract_person", "last_name"),
        ("contract_person", "email"),
    ],
)
def test_required_contact_and_contract_fields(petr, sub_rules, section, field):
    assert_rejected(
        petr,
        {f"{section}.{field}": "This field is required."},
        **arguments(sub_rules, **{section: {field: " "}}),
    )


def test_invalid_emails_are_rejected(petr, sub_rules):
    assert_rejected(
        petr,
        {"contacts.email": "valid email", "contract_person.email": "valid email"},
        **arguments(sub_rules, contacts={"email": "nobody"}, contract_person={"email": "nobody@"}),
    )


def test_too_long_values_are_rejected(petr, sub_rules):
    assert_rejected(
        petr,
        {"contacts.city": "at most 150 characters"},
        **arguments(sub_rules, contacts={"city": "М" * 151}),
    )


# Owner ------------------------------------------------------------------------------------------


def test_the_owner_is_an_existing_or_a_new_user(petr, sub_rules, sub_reseller):
    """Exactly one owner: an ExistingOwner or a NewOwner, nothing else."""
    known = make_user()
    make_client(reseller=sub_reseller, rules=sub_rules, owner=known)
    assert_rejected(
        petr,
        {"owner.user": "Select a user of your reseller's clients."},
        **arguments(sub_rules, owner=known),
    )


def test_exactly_one_owner_not_none(petr, sub_rules):
    assert_rejected(
        petr,
        {"owner": "Select the owner or create a new user."},
        **arguments(sub_rules, owner=None),
    )


def test_new_owner_needs_names_and_email(petr, sub_rules):
    assert_rejected(
        petr,
        {
            "owner.new_first_name": "This field is required.",
            "owner.new_last_name": "This field is required.",
            "owner.new_email": "This field is required.",
        },
        **arguments(sub_rules, owner=NewOwner(first_name="", last_name=" ", email="")),
    )


def test_new_owner_email_taken_in_any_case_offers_that_user(petr, sub_rules, sub_reseller):
    known = make_user(email="known@example.com", first_name="Анна", last_name="Белова")
    make_client(reseller=sub_reseller, rules=sub_rules, owner=known)
    error = assert_rejected(
        petr,
        {"owner.new_email": "select this user as the owner instead"},
        **arguments(
            sub_rules, owner=NewOwner(first_name="А", last_name="Б", email="KNOWN@example.COM")
        ),
    )
    (taken,) = error.error_dict["owner.new_email"]
    assert taken.code == "email_taken"
    assert taken.params["user_id"] == known.pk


def test_new_owner_email_of_an_unreachable_user_names_nobody(petr, sub_rules):
    make_user(email="elsewhere@example.com", first_name="Секрет", last_name="Секретов")
    error = assert_rejected(
        petr,
        {"owner.new_email": "This email cannot be used for a new owner."},
        **arguments(
            sub_rules,
            owner=NewOwner(first_name="А", last_name="Б", email="elsewhere@example.com"),
        ),
    )
    assert "Секрет" not in str(error)


# Agreements ---------------------------------------------------------------------------------------


@pytest.fixture
def terms_reseller(sub_reseller):
    sub_reseller.terms_required = True
    sub_reseller.terms_url = "https://partner.example/terms"
    sub_reseller.save()
    return sub_reseller


def test_accepted_terms_are_logged_hidden_from_the_client(petr, sub_rules, terms_reseller):
    client = client_create(actor=petr, **arguments(sub_rules, agreements=Agreements(accepted=True)))
    assert client.terms_status == TermsStatus.ACCEPTED
    assert client.terms_accepted_by == petr and client.terms_accepted_at is not None
    event = client.events.get(event_type=EventType.TERMS_ACCEPTED)
    assert not event.visible_to_client
    assert str(petr) in event.description
    assert event.data["manager_id"] == petr.pk


def test_terms_not_accepted_wait_for_the_owner(petr, sub_rules, terms_reseller):
    client = client_create(
        actor=petr, **arguments(sub_rules, agreements=Agreements(accepted=False))
    )
    assert client.terms_status == TermsStatus.PENDING
    assert client.terms_accepted_at is None
    assert not client.events.filter(event_type=EventType.TERMS_ACCEPTED).exists()


def test_terms_not_requested_are_not_logged(petr, sub_rules):
    client = client_create(actor=petr, **arguments(sub_rules, agreements=Agreements(accepted=True)))
    assert client.terms_status == TermsStatus.NOT_REQUESTED
    assert list(client.events.values_list("event_type", flat=True)) == [EventType.CLIENT_CREATED]


# Attributes --------------------------------------------------------------------------------------


def test_required_attributes(petr, sub_rules):
    assert_rejected(
        petr,
        {"attributes.passport_number": "This field is required."},
        **arguments(sub_rules, attributes={"passport_series": "4510"}),
    )


def test_attribute_format_must_match_the_whole_value(petr, sub_rules):
    assert_rejected(
        petr,
        {"attributes.passport_series": "Enter the value in the format \\d{4}."},
        **arguments(sub_rules, attributes={"passport_series": "45101", "passport_number": "1"}),
    )


@pytest.mark.parametrize(
    ("key", "value", "message"),
    [
        ("inn", "7707083894", "INN: the check digit is wrong (checksum failed)."),
        (
            "inn",
            "770708389",
            "INN: wrong length, it must have 10 / 12 digits (length check failed).",
        ),
        ("inn", "77070838AB", "INN: only digits are allowed (format check failed)."),
        ("ogrn", "1027700132196", "OGRN: the check digit is wrong (checksum failed)."),
        ("ogrn", "102770013219", "OGRN: wrong length"),
        ("ogrn", "0027700132195", "OGRN: it cannot start with this digit (format check failed)."),
        ("kpp", "77360100", "KPP: wrong length, it must have 9 characters (length check failed)."),
        ("kpp", "7736AB0X1", "KPP: four digits, two digits or capital letters, three digits"),
    ],
)
def test_company_identifiers_say_which_check_failed(petr, sub_rules, key, value, message):
    values = {"inn": VALID_INN, "kpp": VALID_KPP, "ogrn": VALID_OGRN, key: value}
    assert_rejected(
        petr, {f"attributes.{key}": message}, **company_arguments(sub_rules, attributes=values)
    )


def test_an_attribute_of_another_type_is_rejected(petr, sub_rules):
    values = {"passport_series": "4510", "passport_number": "123456", "inn": VALID_INN}
    assert_rejected(
        petr,
        {"attributes": "inn is not an attribute of this client type."},
        **arguments(sub_rules, attributes=values),
    )


def test_a_read_only_for_admin_attribute_cannot_be_set(petr, sub_rules, sub_reseller):
    hidden = Attribute.objects.create(
        reseller=sub_reseller, key="internal", name="Внутреннее", read_only_for_admin=True
    )
    hidden.client_types.set([sub_rules["person"]])
    values = {"passport_series": "4510", "passport_number": "123456", "internal": "x"}
    assert_rejected(
        petr,
        {"attributes": "internal is not an attribute of this client type."},
        **arguments(sub_rules, attributes=values),
    )


@pytest.fixture
def typed_attributes(sub_reseller, sub_rules) -> dict[str, Attribute]:
    """One attribute of each remaining value type on the person type."""
    made = {}
    for key, value_type, required, default in [
        ("segment", AttributeValueType.LIST, False, "smb"),
        ("issued_on", AttributeValueType.DATE, False, ""),
        ("consent", AttributeValueType.CHECKBOX, True, ""),
        ("vat", AttributeValueType.CHECKBOX, False, "1"),
        ("secret", AttributeValueType.PASSWORD, False, ""),
    ]:
        attribute = Attribute.objects.create(
            reseller=sub_reseller,
            key=key,
            name=key,
            value_type=value_type,
            required=required,
            default_value=default,
            weight=100,
        )
        attribute.client_types.set([sub_rules["person"]])
        made[key] = attribute
    for position, key in enumerate(["smb", "gov"]):
        AttributeOption.objects.create(
            attribute=made["segment"], key=key, name=key.upper(), position=position
        )
    return made


def passport(**extra) -> dict:
    return {"passport_series": "4510", "passport_number": "123456", **extra}


def test_every_value_type_is_stored_as_text(petr, sub_rules, typed_attributes):
    import datetime

    client = client_create(
        actor=petr,
        **arguments(
            sub_rules,
            attributes=passport(
                segment="gov",
                issued_on=datetime.date(2020, 5, 17),
                consent=True,
                vat=False,
                secret=" s3cret ",
            ),
        ),
    )
    stored = {value.attribute.key: value.value for value in client.attribute_values.all()}
    assert stored == {
        "passport_series": "4510",
        "passport_number": "123456",
        "segment": "gov",
        "issued_on": "2020-05-17",
        "consent": "1",
        "secret": " s3cret ",
    }


def test_missing_attributes_take_their_defaults(petr, sub_rules, typed_attributes):
    client = client_create(actor=petr, **arguments(sub_rules, attributes=passport(consent=True)))
    stored = {value.attribute.key: value.value for value in client.attribute_values.all()}
    assert stored["segment"] == "smb"
    assert stored["vat"] == "1"


@pytest.mark.parametrize(
    ("values", "field", "message"),
    [
        ({"consent": False}, "attributes.consent", "Tick this box to continue."),
        ({"consent": True, "segment": "vip"}, "attributes.segment", "vip is not one of"),
        ({"consent": True, "issued_on": "2020-13-45"}, "attributes.issued_on", "valid date"),
    ],
)
def test_attribute_values_are_checked_by_type(
    petr, sub_rules, typed_attributes, values, field, message
):
    assert_rejected(petr, {field: message}, **arguments(sub_rules, attributes=passport(**values)))


def test_a_broken_format_does_not_crash(petr, sub_rules):
    Attribute.objects.filter(key="passport_series").update(format="[")
    client = client_create(actor=petr, **arguments(sub_rules))
    assert client.pk


# Double submit ----------------------------------------------------------------------------------


def test_a_second_submit_of_the_page_creates_nothing(petr, sub_rules):
    token = uuid.uuid4()
    first = client_create(actor=petr, **arguments(sub_rules, creation_token=token))
    before = written()
    with pytest.raises(DuplicateSubmission) as caught:
        client_create(actor=petr, **arguments(sub_rules, creation_token=token))
    assert caught.value.client == first
    assert written() == before


def first_look_up_misses(monkeypatch) -> list:
    """The service's first look-up for the page's client finds nothing, as
    if the other submit had not committed yet; the later look-ups (after a
    failed insert or failed checks) see it. Returns the look-ups made."""
    original = selectors.client_created_with_token
    looks = []

    def late(*, token):
        looks.append(token)
        return original(token=token) if len(looks) > 1 else None

    monkeypatch.setattr(selectors, "client_created_with_token", late)
    return looks


def test_a_racing_second_submit_stops_at_the_unique_token(petr, sub_rules, monkeypatch):
    """Two submits that both pass the first look-up: the database's unique
    token decides, and the loser writes nothing."""
    token = uuid.uuid4()
    first = client_create(actor=petr, **arguments(sub_rules, creation_token=token))
    looks = first_look_up_misses(monkeypatch)
    before = written()
    with pytest.raises(DuplicateSubmission) as caught:
        client_create(
            actor=petr,
            **arguments(
                sub_rules,
                creation_token=token,
                owner=NewOwner(first_name="А", last_name="Б", email="other@example.com"),
            ),
        )
    assert caught.value.client == first
    assert len(looks) == 2
    assert written() == before


def test_a_racing_second_submit_that_fails_its_checks_leads_to_the_first(
    petr, sub_rules, monkeypatch
):
    """The second submit looked for the page's client before the first
    committed and checks the new owner's email after: that email is the first
    client's owner's by then, and the page's client is the answer, not an error."""
    token = uuid.uuid4()
    first = client_create(actor=petr, **arguments(sub_rules, creation_token=token))
    looks = first_look_up_misses(monkeypatch)
    before = written()
    with pytest.raises(DuplicateSubmission) as caught:
        client_create(actor=petr, **arguments(sub_rules, creation_token=token))
    assert caught.value.client == first
    assert len(looks) == 2
    assert written() == before


def test_another_resellers_token_is_refused(petr, irina, sub_rules, root_rules):
    token = uuid.uuid4()
    client_create(actor=irina, **arguments(root_rules, creation_token=token))
    assert_rejected(
        petr,
        {NON_FIELD_ERRORS: "This page has expired"},
        **arguments(
            sub_rules,
            creation_token=token,
            owner=NewOwner(first_name="А", last_name="Б", email="other@example.com"),
        ),
    )


def test_all_errors_are_reported_together(petr, sub_rules, root_rules):
    error = assert_rejected(
        petr,
        {
            "client_info.client_type": "Select a client type of your reseller.",
            "contacts.city": "This field is required.",
            "contacts.phone": "Enter the phone number",
            "owner": "Select the owner or create a new user.",
        },
        **arguments(
            sub_rules,
            client_info={"client_type": root_rules["person"]},
            contacts={"city": "", "phone": "x"},
            owner=None,
        ),
    )
    assert len(error.message_dict) >= 4


def test_an_inactive_user_cannot_be_the_owner(petr, sub_rules, sub_reseller):
    known = make_user(email="gone@example.com", is_active=False)
    make_client(reseller=sub_reseller, rules=sub_rules, owner=known)
    assert_rejected(
        petr,
        {"owner.user": "Select a user of your reseller's clients."},
        **arguments(sub_rules, owner=ExistingOwner(user_id=known.pk)),
    )


def test_managers_of_other_resellers_are_not_reachable_owners(petr, sub_rules, root_reseller):
    anna = make_manager(reseller=root_reseller)
    assert_rejected(
        petr,
        {"owner.user": "Select a user of your reseller's clients."},
        **arguments(sub_rules, owner=ExistingOwner(user_id=anna.user.pk)),
    )


# The target reseller ----------------------------------------------------------------------------


def test_the_root_resellers_manager_creates_for_a_reseller_below(irina, sub_reseller, sub_rules):
    client = client_create(actor=irina, reseller=sub_reseller, **arguments(sub_rules))
    assert client.reseller == sub_reseller
    assert client.created_by == irina.user


def test_a_reseller_out_of_reach_is_refused(petr, root_reseller, root_rules):
    assert_rejected(
        petr,
        {NON_FIELD_ERRORS: "You cannot create clients for this reseller."},
        reseller=root_reseller,
        **arguments(root_rules),
    )


def test_the_types_rules_and_managers_are_the_target_resellers(irina, sub_reseller, root_rules):
    """The root's manager creating for a reseller below uses that reseller's
    types and rules, not the root's own."""
    assert_rejected(
        irina,
        {
            "client_info.client_type": "Select a client type of your reseller.",
            "client_info.service_rule": "Select a service rule of your reseller.",
            "client_info.manager": "Select a manager of your reseller.",
        },
        reseller=sub_reseller,
        **arguments(root_rules, client_info={"manager": irina}),
    )


# Every text within its column, whoever calls ----------------------------------------------------


def test_a_new_owner_email_longer_than_its_column_is_refused(petr, sub_rules):
    email = "o" * 64 + "@" + ".".join(["d" * 60] * 4) + ".ru"  # 311 characters, well formed
    assert_rejected(
        petr,
        {"owner.new_email": "at most 254 characters"},
        **arguments(sub_rules, owner=NewOwner(first_name="А", last_name="Б", email=email)),
    )


def test_names_longer_than_their_columns_are_refused(petr, sub_rules):
    assert_rejected(
        petr,
        {
            "client_info.company_name": "at most 255 characters",
            "contract_person.first_name": "at most 150 characters",
            "owner.new_last_name": "at most 150 characters",
        },
        **company_arguments(
            sub_rules,
            company_name="Р" * 256,
            contract_person={"first_name": "И" * 151},
            owner=NewOwner(first_name="А", last_name="Б" * 151, email="new@example.com"),
        ),
    )


def test_nul_characters_are_refused(petr, sub_rules):
    assert_rejected(
        petr,
        {"contacts.city": "Null characters are not allowed."},
        **arguments(sub_rules, contacts={"city": "Мос\x00ква"}),
    )


# The dry run ------------------------------------------------------------------------------------


def test_the_check_reports_what_create_would_and_writes_nothing(petr, sub_rules):
    before = written()
    error = services.client_create_check(
        actor=petr,
        reseller=petr.reseller,
        **arguments(sub_rules, contacts={"region": "Крым", "phone": "x"}),
    )
    assert set(error.message_dict) == {"contacts.region", "contacts.phone"}
    assert written() == before


def test_the_check_of_valid_sections_finds_nothing(petr, sub_rules):
    assert (
        services.client_create_check(actor=petr, reseller=petr.reseller, **arguments(sub_rules))
        is None
    )
    assert not Client.objects.exists()


def test_the_check_skips_the_sections_not_given(petr, sub_rules):
    """A page whose client information did not convert still hears about its
    contacts; the attributes, which need the type, are not checked."""
    values = arguments(sub_rules, contacts={"city": "Sevastopol", "region": "Crimea"})
    error = services.client_create_check(
        actor=petr,
        reseller=petr.reseller,
        contacts=values["contacts"],
        attributes={"passport_series": "not digits"},
    )
    assert set(error.message_dict) == {"contacts.region"}


def test_the_check_of_a_page_that_made_its_client_leads_to_it(petr, sub_rules):
    token = uuid.uuid4()
    first = client_create(actor=petr, **arguments(sub_rules, creation_token=token))
    with pytest.raises(DuplicateSubmission) as caught:
        services.client_create_check(
            actor=petr, reseller=petr.reseller, contacts=None, creation_token=token
        )
    assert caught.value.client == first


def test_every_error_key_names_a_section(petr, sub_rules, root_rules):
    """Keys are "<section>.<field>" (or a bare section), the section being
    an argument of client_create: a page or an API maps them without a table."""
    from clients.inputs import SECTIONS

    error = assert_rejected(
        petr,
        {},
        **arguments(
            sub_rules,
            client_info={"client_type": root_rules["person"]},
            contacts={"city": "", "phone": "x", "email": "nobody"},
            contract_person={"first_name": ""},
            owner=NewOwner(first_name="", last_name="", email="bad"),
            attributes={"nope": "1"},
        ),
    )
    assert len(error.message_dict) >= 8
    for key in error.message_dict:
        assert key.partition(".")[0] in SECTIONS, key
