"""Owners and setup links: staff, superusers and panel managers are nobody's
owner (unless OWNERS_MAY_BE_STAFF), and the "client created" email carries a
password-setup link only for an owner who has no password yet."""

import importlib
from urllib.parse import urlsplit

import pytest
from django.core import mail
from django.test import Client as HttpClient
from django.urls import reverse
from django.utils import translation

from clients.inputs import ExistingOwner, NewOwner
from clients.models import AccessLevel, Client, ClientAccess
from notifications.models import NotificationTemplate, TemplateContent
from notifications.services import ensure_default_handlers
from tests.clients.test_client_create_page import CREATE_URL, page_data
from tests.clients.test_client_create_service import (
    arguments,
    assert_rejected,
    client_create,
    written,
)
from tests.conftest import PASSWORD, make_client, make_manager, make_user
from tests.notifications.conftest import LINK_RE, run_worker
from tests.pages import person

SEARCH_URL = reverse("clients:owner_search")
REFUSAL = "Staff, administrators and panel managers cannot own a client"


@pytest.fixture
def panel_people(root_reseller, sub_reseller) -> dict:
    """A staff user, a superuser and a manager, all named like a plain user."""
    return {
        "staff": make_user(
            email="staff.kovalev@oblako.example", last_name="Ковалёв", is_staff=True
        ),
        "superuser": make_user(
            email="root.kovalev@oblako.example",
            last_name="Ковалёв",
            is_staff=True,
            is_superuser=True,
        ),
        "manager": make_manager(
            reseller=sub_reseller, email="m.kovalev@partner.example", last_name="Ковалёв"
        ).user,
    }


def found_ids(browser: HttpClient, query: str) -> str:
    return browser.get(SEARCH_URL, {"q": query}).content.decode()


def test_the_root_resellers_owner_search_leaves_out_the_panels_people(irina_browser, panel_people):
    plain = make_user(email="kovalev@client.example", last_name="Ковалёв")
    for query in ["ковалёв", "kovalev"]:
        html = found_ids(irina_browser, query)
        assert f'data-user-id="{plain.pk}"' in html, query
        for role, user in panel_people.items():
            assert f'data-user-id="{user.pk}"' not in html, (query, role)


def test_a_sub_resellers_owner_search_leaves_out_a_manager_who_owns_a_client(
    petr_browser, sub_reseller, sub_rules, oleg
):
    make_client(reseller=sub_reseller, rules=sub_rules, owner=oleg.user)
    assert f'data-user-id="{oleg.user.pk}"' not in found_ids(petr_browser, "oleg@")


def test_the_setting_lets_the_panels_people_be_owners(
    irina_browser, irina, root_rules, panel_people, settings
):
    settings.OWNERS_MAY_BE_STAFF = True
    html = found_ids(irina_browser, "kovalev")
    for user in panel_people.values():
        assert f'data-user-id="{user.pk}"' in html
    owner = panel_people["staff"]
    client = client_create(
        actor=irina, **arguments(root_rules, owner=ExistingOwner(user_id=owner.pk))
    )
    assert client.accesses.get(level=AccessLevel.OWNER).user == owner


@pytest.mark.parametrize("role", ["staff", "superuser", "manager"])
def test_the_service_refuses_them_on_the_owner_field(irina, root_rules, panel_people, role):
    with translation.override("en"):
        assert_rejected(
            irina,
            {"owner.user": REFUSAL},
            **arguments(root_rules, owner=ExistingOwner(user_id=panel_people[role].pk)),
        )


@pytest.mark.parametrize("role", ["staff", "superuser", "manager"])
def test_the_add_client_page_refuses_them_and_creates_nothing(
    irina_browser, root_rules, client_created_handler, panel_people, role
):
    data = person(page_data(irina_browser.get(CREATE_URL)))
    data.update({"owner-mode": "existing", "owner-user": str(panel_people[role].pk)})
    before = written()

    response = irina_browser.post(CREATE_URL, data, HTTP_ACCEPT_LANGUAGE="en")

    assert response.status_code == 200
    page = response.content.decode()
    assert REFUSAL in page
    owner_form = response.context["page"].owner
    assert any(REFUSAL in message for message in owner_form.errors["query"])
    assert written() == before
    assert not ClientAccess.objects.filter(user=panel_people[role]).exists()


# The "client created" email ----------------------------------------------------------------


@pytest.fixture
def default_template(root_reseller) -> NotificationTemplate:
    """The default "client created" template and the root reseller's handler,
    as migration 0002 and seed_demo make them (transactional tests flush them)."""
    migration = importlib.import_module(
        "notifications.migrations.0002_default_client_created_template"
    )
    template, _ = NotificationTemplate.objects.get_or_create(
        key="client_created", defaults={"name": "Client created"}
    )
    for language in ("ru", "en"):
        TemplateContent.objects.update_or_create(
            template=template,
            language=language,
            defaults={
                "subject": migration.SUBJECT[language],
                "body_text": migration.BODY[language],
                "body_html": migration.HTML[language],
            },
        )
    ensure_default_handlers()
    return template


@pytest.mark.django_db(transaction=True)
def test_an_owner_with_a_password_gets_the_email_without_a_setup_link(
    irina, root_rules, default_template
):
    owner = make_user(email="anna@client.example", first_name="Анна", password=PASSWORD)

    client = client_create(
        actor=irina, **arguments(root_rules, owner=ExistingOwner(user_id=owner.pk))
    )
    run_worker()

    [message] = mail.outbox
    assert message.to == ["anna@client.example"]
    html = message.alternatives[0].content
    assert "/welcome/" not in message.body and "/welcome/" not in html
    assert "задать пароль" not in message.body.lower()
    assert f"«{client.name}»" in message.body
    assert "ваш логин: anna@client.example" in message.body
    owner.refresh_from_db()
    assert owner.check_password(PASSWORD)


@pytest.mark.django_db(transaction=True)
def test_a_new_owner_still_gets_a_working_setup_link(irina, root_rules, default_template):
    new_owner = NewOwner(first_name="Анна", last_name="Орлова", email="new.owner@client.example")

    client_create(actor=irina, **arguments(root_rules, owner=new_owner))
    run_worker()

    [message] = mail.outbox
    link = LINK_RE.search(message.body).group(0)
    browser = HttpClient()
    password = "Tverskaya-street-1-kiosk"
    response = browser.post(
        urlsplit(link).path, {"new_password1": password, "new_password2": password}
    )
    assert response.status_code == 302
    owner = Client.objects.get().accesses.get(level=AccessLevel.OWNER).user
    assert owner.email == "new.owner@client.example"
    assert owner.check_password(password)
