"""Status changes: the transition matrix in the service and through the
page, forged posts, the event log and the notification."""

import pytest
from django.core.exceptions import ValidationError
from django.test import Client as HttpClient
from django.urls import reverse

from clients import services
from clients.models import ClientEvent, ClientStatus, EventType
from tests.conftest import make_client

S = ClientStatus
ALLOWED = {
    (S.ACTIVE, S.ADMINISTRATIVE_HOLD),
    (S.ACTIVE, S.DELETED),
    (S.CREDIT_HOLD, S.ADMINISTRATIVE_HOLD),
    (S.CREDIT_HOLD, S.ACTIVE),
    (S.CREDIT_HOLD, S.DELETED),
    (S.ADMINISTRATIVE_HOLD, S.ACTIVE),
    (S.ADMINISTRATIVE_HOLD, S.DELETED),
}
EVERY_PAIR = [(old, new) for old in S for new in S]


@pytest.fixture(autouse=True)
def _fast_passwords(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def notified(monkeypatch):
    """The notify calls the services make."""
    calls = []
    monkeypatch.setattr(
        services.events, "notify", lambda **kwargs: calls.append(kwargs), raising=True
    )
    return calls


@pytest.fixture
def client_of(sub_reseller, sub_rules):
    def make(status: str = S.ACTIVE):
        return make_client(reseller=sub_reseller, rules=sub_rules, status=status)

    return make


@pytest.mark.parametrize(("old", "new"), sorted(ALLOWED))
def test_allowed_transition_changes_logs_and_notifies(petr, client_of, notified, old, new):
    client = client_of(old)
    result = services.client_set_status(actor=petr, client=client, status=new)
    client.refresh_from_db()
    assert client.status == result.status == new
    event = ClientEvent.objects.get(client=client, event_type=EventType.STATUS_CHANGED)
    assert event.actor == petr.user
    assert event.data == {"old_status": old, "new_status": new, "actor": "Кузнецов Пётр"}
    assert str(S(old).label) in event.subject and str(S(new).label) in event.subject
    assert notified == [
        {
            "event": EventType.STATUS_CHANGED,
            "client": result,
            "actor": petr.user,
            "recipients": None,  # the owner
            "log_entry": event,
        }
    ]


@pytest.mark.parametrize(("old", "new"), [pair for pair in EVERY_PAIR if pair not in ALLOWED])
def test_refused_transition_changes_nothing(petr, client_of, notified, old, new):
    client = client_of(old)
    with pytest.raises(ValidationError) as refused:
        services.client_set_status(actor=petr, client=client, status=new)
    assert refused.value.code == "transition_not_allowed"
    client.refresh_from_db()
    assert client.status == old
    assert not ClientEvent.objects.filter(client=client).exists()
    assert notified == []


def test_unknown_status_is_refused(petr, client_of, notified):
    client = client_of()
    with pytest.raises(ValidationError):
        services.client_set_status(actor=petr, client=client, status="frozen")
    client.refresh_from_db()
    assert client.status == S.ACTIVE


def test_the_check_uses_the_stored_status_not_a_stale_copy(petr, client_of, notified):
    """Two managers open the page of an active client; one deletes it, then the
    other's hold arrives: refused, the client stays deleted."""
    client = client_of()
    stale = type(client).objects.get(pk=client.pk)
    services.client_set_status(actor=petr, client=client, status=S.DELETED)
    with pytest.raises(ValidationError):
        services.client_set_status(actor=petr, client=stale, status=S.ADMINISTRATIVE_HOLD)
    client.refresh_from_db()
    assert client.status == S.DELETED


def test_the_change_and_its_log_roll_back_with_a_failing_notification(petr, client_of, monkeypatch):
    def broken(**kwargs):
        raise RuntimeError("queue down")

    monkeypatch.setattr(services.events, "notify", broken)
    client = client_of()
    with pytest.raises(RuntimeError):
        services.client_set_status(actor=petr, client=client, status=S.ADMINISTRATIVE_HOLD)
    client.refresh_from_db()
    assert client.status == S.ACTIVE
    assert not ClientEvent.objects.filter(client=client).exists()


def test_a_manager_of_another_reseller_cannot_act(irina, root_reseller, root_rules, petr, notified):
    client = make_client(reseller=root_reseller, rules=root_rules)
    with pytest.raises(ValidationError):
        services.client_set_status(actor=petr, client=client, status=S.DELETED)
    # The root reseller's staff may act on every reseller's clients.
    services.client_set_status(actor=irina, client=client, status=S.DELETED)


def test_an_inactive_manager_cannot_act(oleg, client_of, notified):
    client = client_of()
    with pytest.raises(ValidationError):
        services.client_set_status(actor=oleg, client=client, status=S.DELETED)


# --- Credit hold, the system's own --------------------------------------------------


def test_credit_hold_by_the_system(client_of, notified):
    client = client_of()
    services.client_set_credit_hold(client=client)
    client.refresh_from_db()
    assert client.status == S.CREDIT_HOLD
    event = ClientEvent.objects.get(client=client)
    assert event.actor is None
    assert event.data == {"old_status": S.ACTIVE, "new_status": S.CREDIT_HOLD, "actor": None}
    assert notified == [
        {
            "event": EventType.STATUS_CHANGED,
            "client": client,
            "actor": None,
            "recipients": None,
            "log_entry": event,
        }
    ]


@pytest.mark.parametrize("old", [S.CREDIT_HOLD, S.ADMINISTRATIVE_HOLD, S.DELETED])
def test_credit_hold_only_from_active(client_of, notified, old):
    client = client_of(old)
    with pytest.raises(ValidationError):
        services.client_set_credit_hold(client=client)
    client.refresh_from_db()
    assert client.status == old
    assert notified == []


def test_a_manager_cannot_set_credit_hold(petr, client_of, notified):
    client = client_of()
    with pytest.raises(ValidationError):
        services.client_set_status(actor=petr, client=client, status=S.CREDIT_HOLD)


# --- Through the page -----------------------------------------------------------------


def status_url(client) -> str:
    return reverse("clients:status", args=[client.pk])


def test_page_offers_only_the_allowed_actions(petr_browser, client_of):
    client = client_of(S.CREDIT_HOLD)
    page = petr_browser.get(reverse("clients:detail", args=[client.pk])).content.decode()
    for status in (S.ACTIVE, S.ADMINISTRATIVE_HOLD, S.DELETED):
        assert f'data-testid="status-form-{status}"' in page
    assert 'data-testid="status-form-credit_hold"' not in page
    # The dialog posts with the CSRF token.
    assert "csrfmiddlewaretoken" in page


def test_deleted_client_offers_no_status_action(petr_browser, client_of):
    client = client_of(S.DELETED)
    page = petr_browser.get(reverse("clients:detail", args=[client.pk])).content.decode()
    assert 'data-testid="status-form-' not in page


def test_confirmation_page_then_post(petr_browser, petr, client_of, notified):
    client = client_of()
    confirm = petr_browser.get(status_url(client), {"status": S.ADMINISTRATIVE_HOLD})
    assert confirm.status_code == 200
    assert 'data-testid="status-form-administrative_hold"' in confirm.content.decode()
    client.refresh_from_db()
    assert client.status == S.ACTIVE  # a GET changes nothing

    response = petr_browser.post(status_url(client), {"status": S.ADMINISTRATIVE_HOLD})
    assert response.status_code == 302
    assert response["Location"] == reverse("clients:detail", args=[client.pk])
    client.refresh_from_db()
    assert client.status == S.ADMINISTRATIVE_HOLD
    event = ClientEvent.objects.get(client=client)
    assert event.actor == petr.user

    page = petr_browser.get(response["Location"]).content.decode()
    assert event.subject in page  # in the event log on the page
    assert len(notified) == 1


def test_hold_and_back_leaves_two_entries(petr_browser, client_of, notified):
    client = client_of()
    petr_browser.post(status_url(client), {"status": S.ADMINISTRATIVE_HOLD})
    petr_browser.post(status_url(client), {"status": S.ACTIVE})
    events = list(ClientEvent.objects.filter(client=client).order_by("id"))
    assert [event.data["new_status"] for event in events] == [S.ADMINISTRATIVE_HOLD, S.ACTIVE]
    page = petr_browser.get(reverse("clients:detail", args=[client.pk])).content.decode()
    for event in events:
        assert event.subject in page


@pytest.mark.parametrize(
    ("old", "forged"),
    [
        (S.ACTIVE, S.CREDIT_HOLD),
        (S.ACTIVE, S.ACTIVE),
        (S.DELETED, S.ACTIVE),
        (S.DELETED, S.ADMINISTRATIVE_HOLD),
        (S.ADMINISTRATIVE_HOLD, S.CREDIT_HOLD),
    ],
)
def test_forged_post_is_refused_with_a_message(petr_browser, client_of, notified, old, forged):
    client = client_of(old)
    response = petr_browser.post(status_url(client), {"status": forged}, follow=True)
    assert response.status_code == 200
    client.refresh_from_db()
    assert client.status == old
    assert not ClientEvent.objects.filter(client=client).exists()
    assert [m.level_tag for m in response.context["messages"]] == ["error"]
    assert notified == []


@pytest.mark.parametrize("payload", [{}, {"status": "frozen"}, {"status": "active\x00"}])
def test_nonsense_post_is_refused(petr_browser, client_of, notified, payload):
    client = client_of(S.ADMINISTRATIVE_HOLD)
    response = petr_browser.post(status_url(client), payload, follow=True)
    assert response.status_code == 200
    client.refresh_from_db()
    assert client.status == S.ADMINISTRATIVE_HOLD
    assert [m.level_tag for m in response.context["messages"]] == ["error"]


def test_confirmation_page_for_a_refused_move_redirects(petr_browser, client_of):
    client = client_of(S.DELETED)
    response = petr_browser.get(status_url(client), {"status": S.ACTIVE})
    assert response.status_code == 302


def test_post_without_csrf_token_is_forbidden(petr, client_of):
    browser = HttpClient(enforce_csrf_checks=True)
    browser.force_login(petr.user)
    client = client_of()
    response = browser.post(status_url(client), {"status": S.DELETED})
    assert response.status_code == 403
    client.refresh_from_db()
    assert client.status == S.ACTIVE


def test_other_methods_are_not_allowed(petr_browser, client_of):
    client = client_of()
    assert petr_browser.put(status_url(client)).status_code == 405
    assert petr_browser.delete(status_url(client)).status_code == 405


def test_an_inactive_manager_is_signed_out(oleg, client_of):
    browser = HttpClient()
    browser.force_login(oleg.user)
    client = client_of()
    response = browser.post(status_url(client), {"status": S.DELETED})
    assert response.status_code == 302
    assert reverse("login") in response["Location"]
    client.refresh_from_db()
    assert client.status == S.ACTIVE


def test_admin_action_puts_active_clients_on_credit_hold(client_of, notified):
    from tests.conftest import make_user

    admin_user = make_user(is_staff=True, is_superuser=True)
    browser = HttpClient()
    browser.force_login(admin_user)
    active, held = client_of(S.ACTIVE), client_of(S.ADMINISTRATIVE_HOLD)
    response = browser.post(
        reverse("admin:clients_client_changelist"),
        {"action": "client_set_credit_hold_action", "_selected_action": [active.pk, held.pk]},
        follow=True,
    )
    assert response.status_code == 200
    active.refresh_from_db()
    held.refresh_from_db()
    assert active.status == S.CREDIT_HOLD
    assert held.status == S.ADMINISTRATIVE_HOLD
    event = ClientEvent.objects.get(client=active)
    assert event.actor is None  # the System
    assert [m.level_tag for m in response.context["messages"]] == ["success", "warning"]


# --- With the real notifications app ------------------------------------------------


@pytest.fixture
def status_handler(sub_reseller):
    from notifications.models import EventHandler, NotificationTemplate, TemplateContent

    template = NotificationTemplate.objects.create(name="Статус", key="status_changed")
    TemplateContent.objects.create(
        template=template, language="ru", subject="Статус изменён", body_text="{{ client.name }}"
    )
    return EventHandler.objects.create(
        reseller=sub_reseller, event=EventType.STATUS_CHANGED, template=template
    )


def test_status_change_queues_a_delivery_shown_on_the_page(
    petr_browser, petr, client_of, status_handler
):
    from notifications.models import Delivery

    client = client_of()
    petr_browser.post(status_url(client), {"status": S.ADMINISTRATIVE_HOLD})
    delivery = Delivery.objects.get(client=client)
    assert delivery.event == EventType.STATUS_CHANGED
    assert delivery.actor == petr.user
    page = petr_browser.get(reverse("clients:detail", args=[client.pk])).content.decode()
    log = page.split('data-testid="delivery-log"', 1)[1]
    assert delivery.recipient in log


def test_a_refused_change_queues_nothing(petr_browser, client_of, status_handler):
    from notifications.models import Delivery

    client = client_of(S.DELETED)
    petr_browser.post(status_url(client), {"status": S.ACTIVE})
    assert not Delivery.objects.filter(client=client).exists()
