"""Django admin changes clients only through the services: status and postpay
are read-only fields, changed by the actions "Change status…" and "Decide
postpay…" (on the list and on a client's page) that call the panel's
services; adding clients, deleting them and editing owners or attribute
values is not offered. Every test posts the admin's own forms, as a browser
would, read from the page it answered before."""

from html.parser import HTMLParser

import pytest
from django.contrib.admin.models import LogEntry
from django.contrib.auth.models import Permission
from django.test import Client as HttpClient
from django.urls import reverse
from django_tasks_db.models import DBTaskResult

from clients.models import (
    AccessLevel,
    Client,
    ClientAccess,
    ClientAttributeValue,
    ClientEvent,
    ClientStatus,
    EventType,
    PostpayPermission,
)
from notifications.models import Delivery, EventHandler, NotificationTemplate, TemplateContent
from tests.conftest import make_client, make_manager, make_user
from users.models import ManagerRole, PostpayMode

S = ClientStatus
CHANGE_FORM_ACTION = "CHANGE_FORM-action"


class FormReader(HTMLParser):
    """The fields a browser would submit from one form of a page (without
    its buttons): inputs, checked boxes, selected options, textareas."""

    def __init__(self, form_id: str | None) -> None:
        super().__init__()
        self.form_id = form_id
        self.inside = False
        self.fields: list[tuple[str, str]] = []
        self._select: str | None = None
        self._select_first: str | None = None
        self._select_chosen = False
        self._textarea: str | None = None
        self._text = ""

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "form" and (self.form_id is None or attrs.get("id") == self.form_id):
            self.inside = True
        if not self.inside:
            return
        name = attrs.get("name")
        if tag == "input" and name:
            kind = attrs.get("type", "text")
            if kind in {"submit", "button", "file", "image", "reset"}:
                return
            if kind in {"checkbox", "radio"} and "checked" not in attrs:
                return
            self.fields.append((name, attrs.get("value", "on" if kind == "checkbox" else "")))
        elif tag == "select" and name:
            self._select, self._select_first, self._select_chosen = name, None, False
        elif tag == "option" and self._select is not None:
            value = attrs.get("value", "")
            if self._select_first is None:
                self._select_first = value
            if "selected" in attrs and not self._select_chosen:
                self.fields.append((self._select, value))
                self._select_chosen = True
        elif tag == "textarea" and name:
            self._textarea, self._text = name, ""

    def handle_endtag(self, tag):
        if not self.inside:
            return
        if tag == "select" and self._select is not None:
            if not self._select_chosen and self._select_first is not None:
                self.fields.append((self._select, self._select_first))
            self._select = None
        elif tag == "textarea" and self._textarea is not None:
            self.fields.append((self._textarea, self._text.removeprefix("\n")))
            self._textarea = None
        elif tag == "form":
            self.inside = False

    def handle_data(self, data):
        if self._textarea is not None:
            self._text += data


def form_data(html: str, form_id: str | None = None) -> dict[str, list[str]]:
    reader = FormReader(form_id)
    reader.feed(html)
    data: dict[str, list[str]] = {}
    for name, value in reader.fields:
        data.setdefault(name, []).append(value)
    return data


def options(html: str, select_name: str) -> list[str]:
    """The option values of a select, in page order."""

    class Options(HTMLParser):
        def __init__(self):
            super().__init__()
            self.inside, self.values = False, []

        def handle_starttag(self, tag, attrs):
            attrs = dict(attrs)
            if tag == "select":
                self.inside = attrs.get("name") == select_name
            elif tag == "option" and self.inside:
                self.values.append(attrs.get("value", ""))

        def handle_endtag(self, tag):
            if tag == "select":
                self.inside = False

    reader = Options()
    reader.feed(html)
    return reader.values


def messages_of(response) -> list[tuple[str, str]]:
    return [(m.level_tag, str(m)) for m in response.context["messages"]]


# --- The world ----------------------------------------------------------------------


@pytest.fixture
def admin_manager(root_reseller):
    """The installation's admin: a superuser who is also an active manager of
    the root reseller, as the demo's admin is."""
    return make_manager(
        reseller=root_reseller,
        role=ManagerRole.SYSTEM_ADMINISTRATOR,
        email="admin@oblako.example",
        first_name="Анна",
        last_name="Админова",
        is_staff=True,
        is_superuser=True,
    )


@pytest.fixture
def admin_browser(admin_manager) -> HttpClient:
    browser = HttpClient()
    browser.force_login(admin_manager.user)
    return browser


@pytest.fixture
def status_handler(sub_reseller) -> EventHandler:
    template = NotificationTemplate.objects.create(name="Статус", key="status_changed")
    TemplateContent.objects.create(
        template=template, language="ru", subject="Статус изменён", body_text="{{ client.name }}"
    )
    return EventHandler.objects.create(
        reseller=sub_reseller, event=EventType.STATUS_CHANGED, template=template
    )


@pytest.fixture
def client_of(sub_reseller, sub_rules):
    def make(status: str = S.ACTIVE, **fields) -> Client:
        return make_client(reseller=sub_reseller, rules=sub_rules, status=status, **fields)

    return make


def change_url(client: Client) -> str:
    return reverse("admin:clients_client_change", args=[client.pk])


def changelist_url() -> str:
    return reverse("admin:clients_client_changelist")


def run_change_page_action(browser: HttpClient, client: Client, action: str, **choice: str):
    """Choose the action on the client's admin page, then submit the
    intermediate page's form with the given choice; returns both answers."""
    page = browser.get(change_url(client)).text
    assert action in options(page, CHANGE_FORM_ACTION)
    data = form_data(page, "client_form")
    data[CHANGE_FORM_ACTION] = [action]
    intermediate = browser.post(change_url(client), data)
    assert intermediate.status_code == 200, intermediate.content
    assert 'data-testid="service-action"' in intermediate.text
    confirm = form_data(intermediate.text)
    for name, value in choice.items():
        confirm[name] = [value]
    return intermediate, browser.post(change_url(client), confirm, follow=True)


# --- Status ----------------------------------------------------------------------------


def test_status_change_on_the_client_page_goes_through_the_service(
    admin_browser, admin_manager, client_of, status_handler
):
    client = client_of(S.ACTIVE)

    intermediate, response = run_change_page_action(
        admin_browser, client, "client_change_status_action", status=S.ADMINISTRATIVE_HOLD
    )

    # Offered: the moves allowed from Active, never the system's credit hold.
    assert options(intermediate.text, "status") == [S.ADMINISTRATIVE_HOLD, S.DELETED]
    assert response.redirect_chain[-1][0] == change_url(client)
    assert [level for level, _text in messages_of(response)] == ["success"]
    client.refresh_from_db()
    assert client.status == S.ADMINISTRATIVE_HOLD
    [event] = ClientEvent.objects.filter(client=client)
    assert event.event_type == EventType.STATUS_CHANGED
    assert event.actor == admin_manager.user
    assert event.data == {
        "old_status": S.ACTIVE,
        "new_status": S.ADMINISTRATIVE_HOLD,
        "actor": "Админова Анна",
    }
    [delivery] = Delivery.objects.filter(client=client)
    assert delivery.event == EventType.STATUS_CHANGED
    assert delivery.actor == admin_manager.user
    assert DBTaskResult.objects.count() == 1
    # Admin's own history names the service that made the change.
    assert (
        LogEntry.objects.filter(object_id=str(client.pk))
        .get()
        .change_message.startswith("Status: administrative_hold")
    )


def test_status_change_of_selected_clients_in_the_list(
    admin_browser, admin_manager, client_of, status_handler
):
    active, held, deleted = client_of(S.ACTIVE), client_of(S.CREDIT_HOLD), client_of(S.DELETED)
    selected = [str(active.pk), str(held.pk), str(deleted.pk)]
    intermediate = admin_browser.post(
        changelist_url(),
        {"action": "client_change_status_action", "_selected_action": selected},
    )
    assert intermediate.status_code == 200
    assert set(options(intermediate.text, "status")) == {
        S.ACTIVE,
        S.ADMINISTRATIVE_HOLD,
        S.DELETED,
    }
    confirm = form_data(intermediate.text)
    confirm["status"] = [S.DELETED]

    response = admin_browser.post(changelist_url(), confirm, follow=True)

    levels = [level for level, _text in messages_of(response)]
    assert levels == ["success", "error"]
    refusal = messages_of(response)[1][1]
    assert f"#{deleted.pk}" in refusal and "Удален" in refusal
    for client, status in ((active, S.DELETED), (held, S.DELETED), (deleted, S.DELETED)):
        client.refresh_from_db()
        assert client.status == status
    assert ClientEvent.objects.filter(event_type=EventType.STATUS_CHANGED).count() == 2
    assert not ClientEvent.objects.filter(client=deleted).exists()
    assert Delivery.objects.count() == DBTaskResult.objects.count() == 2


@pytest.mark.parametrize(
    ("old", "forged"),
    [
        (S.ACTIVE, S.CREDIT_HOLD),
        (S.ACTIVE, S.ACTIVE),
        (S.ADMINISTRATIVE_HOLD, S.CREDIT_HOLD),
        (S.DELETED, S.ACTIVE),
    ],
)
def test_illegal_transition_is_refused_with_a_message(
    admin_browser, client_of, status_handler, old, forged
):
    client = client_of(old)
    response = admin_browser.post(
        change_url(client),
        {
            CHANGE_FORM_ACTION: "client_change_status_action",
            "_selected_action": str(client.pk),
            "apply": "1",
            "status": forged,
        },
        follow=True,
    )

    assert response.status_code == 200
    [(level, text)] = messages_of(response)
    assert level == "error"
    assert "нельзя перевести из статуса" in text  # the service's own message
    client.refresh_from_db()
    assert client.status == old
    assert not ClientEvent.objects.filter(client=client).exists()
    assert not Delivery.objects.exists()
    assert not DBTaskResult.objects.exists()
    assert not LogEntry.objects.exists()


def test_a_deleted_client_offers_no_status_change(admin_browser, client_of):
    client = client_of(S.DELETED)
    response = admin_browser.post(
        change_url(client),
        {CHANGE_FORM_ACTION: "client_change_status_action", "_selected_action": str(client.pk)},
        follow=True,
    )
    assert [level for level, _text in messages_of(response)] == ["error"]
    client.refresh_from_db()
    assert client.status == S.DELETED


def test_admin_who_is_no_manager_cannot_change_status(root_reseller, client_of, status_handler):
    """The services act as a manager (checked, named in the log): a superuser
    without a manager gets a message and changes nothing."""
    browser = HttpClient()
    browser.force_login(make_user(is_staff=True, is_superuser=True))
    client = client_of(S.ACTIVE)
    response = browser.post(
        change_url(client),
        {
            CHANGE_FORM_ACTION: "client_change_status_action",
            "_selected_action": str(client.pk),
            "apply": "1",
            "status": S.DELETED,
        },
        follow=True,
    )
    [(level, text)] = messages_of(response)
    assert level == "error" and "менеджер" in text
    client.refresh_from_db()
    assert client.status == S.ACTIVE
    assert not ClientEvent.objects.exists()
    assert not Delivery.objects.exists()


def test_staff_without_the_status_permission_is_not_offered_the_action(sub_reseller, client_of):
    """A marketing manager with admin access and only the view permission:
    no action offered, a forged post changes nothing."""
    marketing = make_manager(reseller=sub_reseller, role=ManagerRole.MARKETING, is_staff=True)
    marketing.user.user_permissions.add(Permission.objects.get(codename="view_client"))
    browser = HttpClient()
    browser.force_login(marketing.user)
    client = client_of(S.ACTIVE)

    page = browser.get(change_url(client)).text
    assert "client_change_status_action" not in page
    browser.post(
        changelist_url(),
        {
            "action": "client_change_status_action",
            "_selected_action": [str(client.pk)],
            "apply": "1",
            "status": S.DELETED,
        },
    )
    client.refresh_from_db()
    assert client.status == S.ACTIVE
    assert not ClientEvent.objects.exists()


def test_status_and_postpay_posted_in_the_change_form_change_nothing(
    admin_browser, client_of, root_reseller, status_handler
):
    client = client_of(S.ACTIVE, postpay_permission=PostpayPermission.NOT_VERIFIED)
    data = form_data(admin_browser.get(change_url(client)).text, "client_form")
    assert "status" not in data and "postpay_permission" not in data
    data.update(
        {
            "city": ["Казань"],  # read-only too: the Edit client page changes it
            "status": [S.DELETED],
            "postpay_permission": [PostpayPermission.APPROVED],
            "postpay_decided_at_0": ["2026-01-01"],
            "terms_status": ["accepted"],
            "reseller": [str(root_reseller.pk)],
            "_save": ["Save"],
        }
    )

    response = admin_browser.post(change_url(client), data)

    assert response.status_code == 302, response.content
    client.refresh_from_db()
    assert client.city == "Москва"
    assert client.status == S.ACTIVE
    assert client.postpay_permission == PostpayPermission.NOT_VERIFIED
    assert client.postpay_decided_at is None
    assert client.terms_status == "not_requested"
    assert client.reseller.name == "Партнёр"
    assert not ClientEvent.objects.exists()
    assert not Delivery.objects.exists()


# --- Postpay -------------------------------------------------------------------------------


@pytest.fixture
def manual(sub_reseller):
    sub_reseller.postpay_mode = PostpayMode.MANUAL
    sub_reseller.save()
    return sub_reseller


def test_postpay_decision_goes_through_the_service(admin_browser, admin_manager, manual, client_of):
    client = client_of(postpay_permission=PostpayPermission.NOT_VERIFIED)

    _intermediate, response = run_change_page_action(
        admin_browser, client, "client_decide_postpay_action", decision=PostpayPermission.APPROVED
    )

    assert [level for level, _text in messages_of(response)] == ["success"]
    client.refresh_from_db()
    assert client.postpay_permission == PostpayPermission.APPROVED
    assert client.postpay_decided_by == admin_manager.user
    [event] = ClientEvent.objects.filter(client=client)
    assert event.event_type == EventType.POSTPAY_DECIDED
    assert event.actor == admin_manager.user
    assert event.visible_to_client is False

    # Final: a second decision is the service's refusal, shown as a message.
    _intermediate, again = run_change_page_action(
        admin_browser, client, "client_decide_postpay_action", decision=PostpayPermission.DECLINED
    )
    [(level, text)] = messages_of(again)
    assert level == "error" and "уже" in text
    client.refresh_from_db()
    assert client.postpay_permission == PostpayPermission.APPROVED
    assert ClientEvent.objects.filter(client=client).count() == 1


def test_postpay_decision_refused_while_the_reseller_decides_automatically(
    admin_browser, client_of
):
    client = client_of(postpay_permission=PostpayPermission.NOT_VERIFIED)
    _intermediate, response = run_change_page_action(
        admin_browser, client, "client_decide_postpay_action", decision=PostpayPermission.APPROVED
    )
    [(level, _text)] = messages_of(response)
    assert level == "error"
    client.refresh_from_db()
    assert client.postpay_permission == PostpayPermission.NOT_VERIFIED
    assert not ClientEvent.objects.exists()


# --- What admin does not offer -----------------------------------------------------------


def test_clients_are_not_added_in_admin(admin_browser, root_reseller, root_rules):
    before = Client.objects.count()
    assert admin_browser.get(reverse("admin:clients_client_add")).status_code == 403
    response = admin_browser.post(
        reverse("admin:clients_client_add"),
        {"reseller": root_reseller.pk, "name": "Обход", "status": S.ACTIVE},
    )
    assert response.status_code == 403
    assert Client.objects.count() == before
    listing = admin_browser.get(changelist_url()).text
    assert reverse("admin:clients_client_add") not in listing
    assert 'data-testid="panel-add-client"' in listing
    assert reverse("clients:create") in listing


def test_clients_are_not_deleted_in_admin(admin_browser, client_of):
    client = client_of()
    assert (
        admin_browser.post(
            reverse("admin:clients_client_delete", args=[client.pk]), {"post": "yes"}
        ).status_code
        == 403
    )
    admin_browser.post(
        changelist_url(),
        {"action": "delete_selected", "_selected_action": [client.pk], "post": "yes"},
    )
    assert Client.objects.filter(pk=client.pk).exists()


def test_owner_and_attribute_values_are_read_only(admin_browser, client_of, sub_rules):
    client = client_of()
    owner_access = ClientAccess.objects.get(client=client)
    value = ClientAttributeValue.objects.create(
        client=client, attribute=sub_rules["attributes"]["passport_series"], value="4510"
    )
    intruder = make_user()
    data = form_data(admin_browser.get(change_url(client)).text, "client_form")
    # The inlines carry no editable field: a post that tries still changes nothing.
    assert {name for name in data if name.startswith("accesses-0-")} <= {
        "accesses-0-id",
        "accesses-0-client",
    }
    data.update(
        {
            "accesses-0-user": [str(intruder.pk)],
            "accesses-0-level": [AccessLevel.USER],
            "accesses-0-DELETE": ["on"],
            "attribute_values-0-value": ["0000"],
            "_save": ["Save"],
        }
    )
    response = admin_browser.post(change_url(client), data)
    assert response.status_code == 302, response.content

    owner_access.refresh_from_db()
    value.refresh_from_db()
    assert (owner_access.user_id, owner_access.level) != (intruder.pk, AccessLevel.USER)
    assert owner_access.level == AccessLevel.OWNER
    assert value.value == "4510"

    for url, payload in [
        (reverse("admin:clients_clientaccess_add"), {"client": client.pk, "user": intruder.pk}),
        (
            reverse("admin:clients_clientaccess_change", args=[owner_access.pk]),
            {"client": client.pk, "user": intruder.pk, "level": AccessLevel.OWNER},
        ),
        (reverse("admin:clients_clientaccess_delete", args=[owner_access.pk]), {"post": "yes"}),
        (
            reverse("admin:clients_clientattributevalue_change", args=[value.pk]),
            {"client": client.pk, "attribute": value.attribute_id, "value": "0000"},
        ),
    ]:
        assert admin_browser.post(url, payload).status_code == 403, url
    owner_access.refresh_from_db()
    assert owner_access.user_id != intruder.pk
    assert ClientAccess.objects.filter(client=client).count() == 1


def test_details_are_read_only_and_link_to_the_panels_edit_page(
    admin_browser, client_of, sub_rules, root_reseller
):
    client = client_of(S.ACTIVE)
    page = admin_browser.get(change_url(client)).text
    data = form_data(page, "client_form")
    assert reverse("clients:edit", args=[client.pk]) in page
    for name in ("name", "company_name", "client_type", "service_rule", "manager", "city", "phone"):
        assert name not in data, name
    other_manager = make_manager(reseller=client.reseller)
    data.update(
        {
            "name": ["Другое имя"],
            "client_type": [str(sub_rules["company"].pk)],
            "service_rule": [str(sub_rules["vip"].pk)],
            "manager": [str(other_manager.pk)],
            "city": ["Казань"],
            "phone": ["+79990000000"],
            "contract_first_name": ["Пётр"],
            "_save": ["Save"],
        }
    )
    before = {field.attname: getattr(client, field.attname) for field in Client._meta.fields}

    response = admin_browser.post(change_url(client), data)

    assert response.status_code == 302, response.content
    client.refresh_from_db()
    assert {field.attname: getattr(client, field.attname) for field in Client._meta.fields} == (
        before
    )
    assert not ClientEvent.objects.exists()
