"""Named personas and factories shared by every test.

The world: the root reseller "Облако" with its manager Ирина (active) and a
sub-reseller "Партнёр" with Пётр (active) and Олег (inactive). Each reseller
has its own client types, service rules and attributes, as the demo data.
"""

import itertools
import os

import pytest
from django.test import Client as HttpClient
from django.utils import translation
from hypothesis import HealthCheck
from hypothesis import settings as hypothesis_settings

from clients.models import AccessLevel, Client, ClientAccess, ClientStatus, EventType
from clients.search import search_text
from rules.models import (
    AccountValidationSettings,
    Attribute,
    AttributeValueType,
    ClientType,
    ServiceRule,
)
from users.models import Manager, ManagerRole, ManagerStatus, Reseller, User
from users.services import manager_create

PASSWORD = "correct-horse-battery-staple"
# A company's registration numbers that pass python-stdnum's checksums.
VALID_INN = "7707083893"
VALID_OGRN = "1027700132195"
VALID_KPP = "773601001"

# Property-based tests (tests/test_hostile_*.py): "ci" by default, a few dozen
# examples per test; HYPOTHESIS_PROFILE=full runs over 10,000 in all (docs/security.md).
_HYPOTHESIS_COMMON = {
    "deadline": None,
    "derandomize": False,
    "suppress_health_check": [
        HealthCheck.function_scoped_fixture,
        HealthCheck.too_slow,
        HealthCheck.data_too_large,
    ],
}
hypothesis_settings.register_profile("ci", max_examples=40, **_HYPOTHESIS_COMMON)
# Seven tests (tests/test_hostile_input.py) share the full run's 10,000 examples.
hypothesis_settings.register_profile("full", max_examples=1450, **_HYPOTHESIS_COMMON)
hypothesis_settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))
_sequence = itertools.count(1)


def make_user(*, email: str | None = None, password: str | None = PASSWORD, **fields) -> User:
    number = next(_sequence)
    fields.setdefault("first_name", f"Имя{number}")
    fields.setdefault("last_name", f"Фамилия{number}")
    return User.objects.create_user(
        email=email or f"user{number}@example.com", password=password, **fields
    )


def make_manager(
    *,
    reseller: Reseller,
    status: str = ManagerStatus.ACTIVE,
    role: str = ManagerRole.SALES,
    **user_fields,
) -> Manager:
    user = make_user(**user_fields)
    # Through the service: the user joins the role's group (users.roles).
    return manager_create(user=user, reseller=reseller, status=status, role=role, key=f"m{user.pk}")


def make_reseller_rules(reseller: Reseller) -> dict:
    """The demo's two client types, three rules and the attributes of each type."""
    person = ClientType.objects.create(
        reseller=reseller,
        name="Физическое лицо",
        key="person",
        name_pattern="%last_name %first_name %middle_name",
        is_default=True,
    )
    company = ClientType.objects.create(
        reseller=reseller,
        name="Юридическое лицо",
        key="company",
        primary_name="Наименование компании",
        name_pattern="%primary_name",
        autofill=True,
    )
    standard = ServiceRule.objects.create(
        reseller=reseller, name="Стандарт", key="standard", colour="#1E88E5", is_default=True
    )
    vip = ServiceRule.objects.create(reseller=reseller, name="VIP", key="vip", colour="#E53935")
    partner = ServiceRule.objects.create(
        reseller=reseller, name="Партнёрский", key="partner", colour="#43A047"
    )
    attributes = {}
    for key, name, value_type, fmt, required, weight, types in [
        (
            "passport_series",
            "Серия паспорта",
            AttributeValueType.STRING,
            r"\d{4}",
            True,
            10,
            [person],
        ),
        (
            "passport_number",
            "Номер паспорта",
            AttributeValueType.STRING,
            r"\d{6}",
            True,
            20,
            [person],
        ),
        ("passport_issued_by", "Кем выдан", AttributeValueType.TEXT, "", False, 30, [person]),
        ("inn", "ИНН", AttributeValueType.STRING, "", True, 10, [company]),
        ("kpp", "КПП", AttributeValueType.STRING, "", False, 20, [company]),
        ("ogrn", "ОГРН", AttributeValueType.STRING, "", False, 30, [company]),
    ]:
        attribute = Attribute.objects.create(
            reseller=reseller,
            key=key,
            name=name,
            value_type=value_type,
            format=fmt,
            required=required,
            weight=weight,
        )
        attribute.client_types.set(types)
        attributes[key] = attribute
    return {
        "person": person,
        "company": company,
        "standard": standard,
        "vip": vip,
        "partner": partner,
        "attributes": attributes,
    }


def make_client(*, reseller: Reseller, rules: dict, owner: User | None = None, **fields) -> Client:
    number = next(_sequence)
    defaults = {
        "client_type": rules["person"],
        "service_rule": rules["standard"],
        "name": f"Клиент {number}",
        "country": "RU",
        "city": "Москва",
        "address_line1": "ул. Тверская, 1",
        "phone": "+79161234567",
        "email": f"client{number}@example.com",
        "contract_first_name": "Иван",
        "contract_last_name": "Иванов",
        "contract_email": f"contract{number}@example.com",
        "status": ClientStatus.ACTIVE,
    }
    defaults.update(fields)
    owner = owner or make_user()
    # Written straight to the table, so the search text too (clients/search.py).
    defaults.setdefault(
        "search_text",
        search_text(name=defaults["name"], phone=defaults["phone"], owner_email=owner.email),
    )
    client = Client.objects.create(reseller=reseller, **defaults)
    ClientAccess.objects.create(client=client, user=owner, level=AccessLevel.OWNER)
    return client


@pytest.fixture(autouse=True)
def empty_cache():
    """Each test starts without another's cached answers (directory results,
    the client list's estimates): IDs are reused between tests."""
    from django.core.cache import cache

    cache.clear()


@pytest.fixture(autouse=True)
def fast_password_hasher(settings):
    """Tests hash many passwords; the production hasher's cost only slows them."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def root_reseller(db) -> Reseller:
    reseller = Reseller.objects.create(name="Облако")
    AccountValidationSettings.objects.create(
        reseller=reseller,
        forbidden_abbreviations="ООО\nOOO\nLLC",
        forbidden_tlds=".ru\n.com",
    )
    return reseller


@pytest.fixture
def sub_reseller(root_reseller) -> Reseller:
    return Reseller.objects.create(name="Партнёр", parent=root_reseller)


@pytest.fixture
def root_rules(root_reseller) -> dict:
    return make_reseller_rules(root_reseller)


@pytest.fixture
def sub_rules(sub_reseller) -> dict:
    return make_reseller_rules(sub_reseller)


@pytest.fixture
def irina(root_reseller) -> Manager:
    """Active manager of the root reseller; a product owner, whose role may
    do everything the panel guards with permissions (users.roles)."""
    return make_manager(
        reseller=root_reseller,
        role=ManagerRole.PRODUCT_OWNER,
        email="irina@oblako.example",
        first_name="Ирина",
        last_name="Смирнова",
    )


@pytest.fixture
def petr(sub_reseller) -> Manager:
    """Active manager of the sub-reseller; a product owner, like Ирина."""
    return make_manager(
        reseller=sub_reseller,
        role=ManagerRole.PRODUCT_OWNER,
        email="petr@partner.example",
        first_name="Пётр",
        last_name="Кузнецов",
    )


@pytest.fixture
def oleg(sub_reseller) -> Manager:
    """Inactive manager of the sub-reseller."""
    return make_manager(
        reseller=sub_reseller,
        status=ManagerStatus.INACTIVE,
        email="oleg@partner.example",
        first_name="Олег",
        last_name="Попов",
    )


@pytest.fixture
def petr_browser(petr) -> HttpClient:
    """A test client signed in as Пётр."""
    browser = HttpClient()
    browser.force_login(petr.user)
    return browser


@pytest.fixture
def irina_browser(irina) -> HttpClient:
    browser = HttpClient()
    browser.force_login(irina.user)
    return browser


@pytest.fixture
def client_created_handler(root_reseller):
    """The root reseller's "client created" email handler (sub-resellers use
    it too), with a template of its own: transactional tests flush the one
    the data migration makes."""
    from notifications.models import Channel, EventHandler, NotificationTemplate, TemplateContent

    template = NotificationTemplate.objects.create(name="Client created", key="test_client_created")
    for language in ("ru", "en"):
        TemplateContent.objects.create(
            template=template,
            language=language,
            subject="{{ client.name }}",
            body_text="{{ owner.email }} {{ owner_password_setup_url }}",
        )
    return EventHandler.objects.create(
        reseller=root_reseller,
        event=EventType.CLIENT_CREATED,
        channel=Channel.EMAIL,
        template=template,
    )


@pytest.fixture
def english(settings):
    """Messages and pages in English (the panel speaks Russian by default):
    tests that assert English wording use it (``pytestmark``)."""
    settings.LANGUAGE_CODE = "en"
    with translation.override("en"):
        yield
