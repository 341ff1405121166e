"""clients.services.client_update: the Add client page's rules on an edit
(the same check functions, so the same failures, and nothing saved), the
log of what changed field by field, the stale-edit refusal, type changes,
masked attributes, the manager and the terms on the same page."""

from dataclasses import asdict, replace

import pytest
from django.core.exceptions import ValidationError
from django.utils import translation

from clients import services
from clients.events import event_wording
from clients.inputs import Agreements, ClientInfo, Contacts, ContractPerson, NewOwner
from clients.models import (
    Client,
    ClientAttributeValue,
    ClientEvent,
    ClientStatus,
    EventType,
    TermsStatus,
)
from notifications.models import Delivery
from rules.models import Attribute, AttributeValueType
from tests.clients.lifecycle import events_of, make_handlers, send_all
from tests.conftest import VALID_INN, make_manager
from users.models import ManagerStatus

pytestmark = pytest.mark.usefixtures("english")


@pytest.fixture
def rules(sub_rules, root_reseller):
    make_handlers(root_reseller)
    for key in ("passport_series", "passport_number"):
        Attribute.objects.filter(pk=sub_rules["attributes"][key].pk).update(masked_in_log=True)
    return sub_rules


def sections(rules, **changes) -> dict:
    """A private person's sections; ``changes`` replace whole sections."""
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
            first_name="Иван", middle_name="Петрович", last_name="Иванов", email="iv@example.com"
        ),
        "attributes": {"passport_series": "4510", "passport_number": "123456"},
    }
    values.update(changes)
    return values


@pytest.fixture
def client(petr, rules) -> Client:
    return services.client_create(
        actor=petr,
        reseller=petr.reseller,
        owner=NewOwner(first_name="Анна", last_name="Орлова", email="anna@example.com"),
        **sections(rules),
    )


def update(petr, client, rules, *, version=None, **changes):
    client.refresh_from_db()
    return services.client_update(
        actor=petr,
        client=client,
        version=client.version if version is None else version,
        **sections(rules, **changes),
    )


def snapshot(client: Client) -> dict:
    """Everything an update may write."""
    fresh = Client.objects.get(pk=client.pk)
    return {
        "client": {
            field.attname: getattr(fresh, field.attname) for field in Client._meta.concrete_fields
        },
        "values": sorted(
            ClientAttributeValue.objects.filter(client=client).values_list(
                "attribute__key", "value"
            )
        ),
        "events": ClientEvent.objects.filter(client=client).count(),
        "deliveries": Delivery.objects.filter(client=client).count(),
    }


# --- a change, logged field by field ---------------------------------------------------


def test_changes_are_saved_and_logged_field_by_field(petr, client, rules):
    contacts = sections(rules)["contacts"]

    _saved, changed = update(
        petr,
        client,
        rules,
        contacts=replace(contacts, city="Тверь", address_line1="ул. Советская, 5"),
        attributes={"passport_series": "4511", "passport_number": "123456"},
    )

    assert changed == ["contacts.city", "contacts.address_line1", "attributes.passport_series"]
    client.refresh_from_db()
    assert (client.city, client.address_line1) == ("Тверь", "ул. Советская, 5")
    assert client.attribute_values.get(attribute__key="passport_series").value == "4511"
    assert (client.version, client.updated_by) == (2, petr.user)
    [event] = events_of(client, EventType.CLIENT_UPDATED)
    assert event.visible_to_client
    assert event.actor == petr.user
    # The passport series is masked in the log: its old and new values are not kept.
    assert "4510" not in str(event.data) and "4511" not in str(event.data)
    assert event_wording(event.event_type, event.data) == (
        "Details changed: City, Address, Серия паспорта",
        "City: Москва → Тверь\n"
        "Address: ул. Тверская, 1 → ул. Советская, 5\n"
        # Four characters: too short to show even the last two.
        "Серия паспорта: ••• → •••\n"
        "Changed by Кузнецов Пётр.",
    )
    with translation.override("ru"):
        subject, description = event_wording(event.event_type, event.data)
    assert subject == "Данные изменены: Город, Адрес, Серия паспорта"
    assert description.startswith("Город: Москва → Тверь\n")


def test_a_new_display_name_follows_the_contract_person(petr, client, rules):
    person = sections(rules)["contract_person"]

    update(petr, client, rules, contract_person=replace(person, last_name="Петров"))

    client.refresh_from_db()
    assert client.name == "Петров Иван Петрович"
    [event] = events_of(client, EventType.CLIENT_UPDATED)
    assert [change["field"] for change in event.data["changes"]] == [
        "client_info.name",
        "contract_person.last_name",
    ]


def test_a_password_attribute_is_never_logged(petr, client, rules):
    secret = Attribute.objects.create(
        reseller=client.reseller,
        key="panel_password",
        name="Пароль панели",
        value_type=AttributeValueType.PASSWORD,
    )
    secret.client_types.set([rules["person"]])

    update(
        petr,
        client,
        rules,
        attributes={"passport_series": "4510", "passport_number": "123456", "panel_password": "s3"},
    )

    [event] = events_of(client, EventType.CLIENT_UPDATED)
    assert event.data["changes"] == [
        {
            "field": "attributes.panel_password",
            "label": "Пароль панели",
            "kind": "password",
            "attribute_id": secret.pk,
            "old": "",
            "new": "••••••",
        }
    ]
    assert client.attribute_values.get(attribute=secret).value == "s3"


def test_nothing_to_change_writes_nothing(petr, client, rules):
    before = snapshot(client)

    _saved, changed = update(petr, client, rules)

    assert changed == []
    assert snapshot(client) == before


def test_an_attribute_left_out_keeps_its_value(petr, client, rules):
    client.refresh_from_db()
    services.client_update(
        actor=petr,
        client=client,
        version=client.version,
        **{**sections(rules), "attributes": {"passport_series": "4599"}},
    )

    assert dict(client.attribute_values.values_list("attribute__key", "value")) == {
        "passport_series": "4599",
        "passport_number": "123456",
    }


# --- the rules of Add client, on an edit ---------------------------------------------------


def _contacts(rules, **fields):
    return replace(sections(rules)["contacts"], **fields)


def _info(rules, **fields):
    return replace(sections(rules)["client_info"], **fields)


CASES = {
    "city required": lambda rules: {"contacts": _contacts(rules, city=" ")},
    "city too long": lambda rules: {"contacts": _contacts(rules, city="Т" * 151)},
    "forbidden region": lambda rules: {"contacts": _contacts(rules, region="Республика Крым")},
    "email": lambda rules: {"contacts": _contacts(rules, email="not-an-email")},
    "phone": lambda rules: {"contacts": _contacts(rules, phone="+7 123")},
    "country": lambda rules: {"contacts": _contacts(rules, country="ZZ")},
    "contract person": lambda rules: {
        "contract_person": replace(sections(rules)["contract_person"], first_name="")
    },
    "company name needed": lambda rules: {
        "client_info": _info(rules, client_type=rules["company"]),
        "attributes": {"inn": VALID_INN},
    },
    "forbidden abbreviation": lambda rules: {
        "client_info": _info(rules, client_type=rules["company"], company_name="ООО Ромашка"),
        "attributes": {"inn": VALID_INN},
    },
    "INN checksum": lambda rules: {
        "client_info": _info(rules, client_type=rules["company"], company_name="Ромашка"),
        "attributes": {"inn": "7707083890"},
    },
    "attribute format": lambda rules: {
        "attributes": {"passport_series": "45", "passport_number": "123456"}
    },
    "unknown attribute": lambda rules: {
        "attributes": {"passport_series": "4510", "passport_number": "123456", "shoe": "42"}
    },
}


@pytest.mark.parametrize("case", list(CASES))
def test_each_add_client_rule_refuses_an_edit_with_the_same_error(
    petr, client, rules, case, sub_reseller
):
    """Every failure of client_create (its dry run, on the same sections) is
    client_update's too, keyed the same, and the edit saves nothing."""
    changes = CASES[case](rules)
    before = snapshot(client)

    with pytest.raises(ValidationError) as raised:
        update(petr, client, rules, **changes)

    created = services.client_create_check(
        actor=petr, reseller=sub_reseller, **sections(rules, **changes)
    )
    assert raised.value.message_dict == created.message_dict
    assert snapshot(client) == before


def test_latin_contacts_are_required_when_the_reseller_asks(petr, client, rules, sub_reseller):
    sub_reseller.latin_contacts = True
    sub_reseller.save()
    before = snapshot(client)

    with pytest.raises(ValidationError) as raised:
        update(petr, client, rules, contacts=_contacts(rules, city="Тверь"))

    assert list(raised.value.message_dict) == [
        "contacts.region",
        "contacts.city",
        "contacts.address_line1",
    ]
    assert snapshot(client) == before


def test_a_new_manager_must_be_active_but_an_inactive_one_may_stay(petr, client, rules):
    leaving = make_manager(reseller=client.reseller)
    Client.objects.filter(pk=client.pk).update(manager=leaving)
    leaving.status = ManagerStatus.INACTIVE
    leaving.save()
    inactive = make_manager(reseller=client.reseller, status=ManagerStatus.INACTIVE)

    with pytest.raises(ValidationError) as raised:
        update(petr, client, rules, client_info=_info(rules, manager=inactive))
    update(
        petr,
        client,
        rules,
        client_info=_info(rules, manager=leaving),
        contacts=_contacts(rules, city="Тверь"),
    )

    assert raised.value.message_dict == {"client_info.manager": ["Select an active manager."]}
    client.refresh_from_db()
    assert (client.manager, client.city) == (leaving, "Тверь")


def test_a_new_manager_on_the_edit_page_is_logged_and_announced(petr, client, rules):
    anna = make_manager(reseller=client.reseller, first_name="Анна", last_name="Белова")
    Delivery.objects.all().delete()

    _saved, changed = update(petr, client, rules, client_info=_info(rules, manager=anna))

    assert changed == ["client_info.manager"]
    assert events_of(client, EventType.CLIENT_UPDATED) == []
    [event] = events_of(client, EventType.MANAGER_CHANGED)
    assert event.data["new_manager_id"] == anna.pk
    [message] = send_all()
    assert message.body == "manager  -> Белова Анна"


def test_a_deleted_client_cannot_be_edited(petr, client, rules):
    Client.objects.filter(pk=client.pk).update(status=ClientStatus.DELETED)
    before = snapshot(client)

    with pytest.raises(ValidationError) as raised:
        update(petr, client, rules, contacts=_contacts(rules, city="Тверь"))

    assert raised.value.messages == ["A deleted client cannot be changed."]
    assert snapshot(client) == before


def test_another_resellers_manager_cannot_edit(client, rules, root_reseller):
    outsider = make_manager(reseller=root_reseller.children.create(name="Сосед"))

    with pytest.raises(ValidationError):
        update(outsider, client, rules, contacts=_contacts(rules, city="Тверь"))

    client.refresh_from_db()
    assert client.city == "Москва"


# --- two managers at once ----------------------------------------------------------------


def test_a_save_from_stale_data_is_refused_with_who_and_when(petr, client, rules):
    irina = make_manager(reseller=client.reseller, first_name="Ирина", last_name="Смирнова")
    opened_at = client.version
    update(irina, client, rules, contacts=_contacts(rules, city="Тверь"))
    before = snapshot(client)

    with pytest.raises(ValidationError) as raised:
        update(
            petr, client, rules, version=opened_at, contacts=_contacts(rules, email="x@example.com")
        )

    [error] = raised.value.error_list
    assert error.code == "stale"
    message = error.messages[0]
    assert message.startswith("Смирнова Ирина changed this client at ")
    assert message.endswith(
        "after you opened the page: reload it to see the changes, then make yours again."
    )
    assert snapshot(client) == before


def test_a_repeated_submit_of_a_saved_page_passes_and_changes_nothing(petr, client, rules):
    opened_at = client.version
    update(petr, client, rules, version=opened_at, contacts=_contacts(rules, city="Тверь"))
    before = snapshot(client)

    _saved, changed = update(
        petr, client, rules, version=opened_at, contacts=_contacts(rules, city="Тверь")
    )

    assert changed == []
    assert snapshot(client) == before


# --- the client type --------------------------------------------------------------------------


def test_the_type_changes_with_the_new_types_attributes_on_the_same_page(petr, client, rules):
    update(
        petr,
        client,
        rules,
        client_info=_info(rules, client_type=rules["company"], company_name="Ромашка"),
        attributes={"inn": VALID_INN},
    )

    client.refresh_from_db()
    assert (client.client_type, client.company_name, client.name) == (
        rules["company"],
        "Ромашка",
        "Ромашка",
    )
    assert dict(client.attribute_values.values_list("attribute__key", "value")) == {
        "inn": VALID_INN
    }
    [event] = events_of(client, EventType.CLIENT_UPDATED)
    lines = event_wording(event.event_type, event.data)[1].splitlines()
    assert lines[:3] == [
        "Client type: Физическое лицо → Юридическое лицо",
        "Наименование компании: — → Ромашка",
        "Name: Иванов Иван Петрович → Ромашка",
    ]
    # The passport is gone, and logged as gone (masked).
    assert "Серия паспорта: ••• → —" in lines
    assert "Номер паспорта: •••56 → —" in lines
    assert f"ИНН: — → {VALID_INN}" in lines


def test_a_type_needing_attributes_this_page_cannot_fill_is_refused(petr, client, rules):
    hidden = Attribute.objects.create(
        reseller=client.reseller,
        key="contract_no",
        name="Номер договора",
        required=True,
        read_only_for_admin=True,
    )
    hidden.client_types.set([rules["company"]])
    before = snapshot(client)

    with pytest.raises(ValidationError) as raised:
        update(
            petr,
            client,
            rules,
            client_info=_info(rules, client_type=rules["company"], company_name="Ромашка"),
            attributes={"inn": VALID_INN},
        )

    assert raised.value.message_dict == {
        "client_info.client_type": [
            "The type Юридическое лицо needs attributes this page cannot fill (Номер договора): "
            "ask an administrator to change the type."
        ]
    }
    assert snapshot(client) == before


def test_a_type_change_that_would_lose_hidden_values_is_refused(petr, client, rules):
    note = Attribute.objects.create(
        reseller=client.reseller, key="note", name="Заметка", read_only_for_admin=True
    )
    note.client_types.set([rules["person"]])
    ClientAttributeValue.objects.create(client=client, attribute=note, value="важно")
    before = snapshot(client)

    with pytest.raises(ValidationError) as raised:
        update(
            petr,
            client,
            rules,
            client_info=_info(rules, client_type=rules["company"], company_name="Ромашка"),
            attributes={"inn": VALID_INN},
        )

    assert raised.value.message_dict == {
        "client_info.client_type": [
            "Changing the type to Юридическое лицо would remove Заметка, which this page "
            "cannot show: ask an administrator to change the type."
        ]
    }
    assert snapshot(client) == before


# --- the terms -----------------------------------------------------------------------------


def test_terms_waiting_for_the_owner_may_be_accepted_by_the_manager(
    petr, client, rules, sub_reseller
):
    sub_reseller.terms_required = True
    sub_reseller.terms_url = "https://partner.example/terms"
    sub_reseller.save()
    Client.objects.filter(pk=client.pk).update(terms_status=TermsStatus.PENDING)

    update(petr, client, rules, agreements=Agreements(accepted=True))

    client.refresh_from_db()
    assert (client.terms_status, client.terms_accepted_by) == (TermsStatus.ACCEPTED, petr)
    [event] = events_of(client, EventType.TERMS_ACCEPTED)
    assert not event.visible_to_client


def test_every_change_is_recorded_through_client_event_record(petr, client, rules, monkeypatch):
    recorded = []
    original = services.client_event_record

    def spy(**kwargs):
        recorded.append(kwargs["event_type"])
        return original(**kwargs)

    monkeypatch.setattr(services.update, "client_event_record", spy)
    # A new manager is recorded by the service that changes managers.
    monkeypatch.setattr(services.access, "client_event_record", spy)
    anna = make_manager(reseller=client.reseller)
    update(
        petr,
        client,
        rules,
        client_info=_info(rules, manager=anna),
        contacts=_contacts(rules, city="Тверь"),
    )

    assert recorded == [EventType.CLIENT_UPDATED, EventType.MANAGER_CHANGED]
    assert asdict(sections(rules)["contacts"])  # the sections stay plain values
