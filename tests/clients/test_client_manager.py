"""Change manager: client_set_manager and the client page's form (an active
manager of the client's reseller, or none), logged and announced."""

import pytest
from django.core.exceptions import ValidationError
from django.test import Client as HttpClient
from django.urls import reverse
from django.utils import translation

from clients import services
from clients.events import event_wording
from clients.models import EventType
from notifications.models import Delivery
from tests.clients.lifecycle import events_of, in_english, make_handlers, send_all
from tests.conftest import make_client, make_manager
from users.models import ManagerRole, ManagerStatus


@pytest.fixture
def world(sub_reseller, sub_rules, root_reseller):
    make_handlers(root_reseller)
    return sub_reseller, sub_rules


@pytest.fixture
def anna(sub_reseller):
    return make_manager(reseller=sub_reseller, first_name="Анна", last_name="Белова")


def test_a_new_manager_is_saved_logged_and_announced_to_the_owner(world, petr, anna):
    reseller, rules = world
    client = make_client(reseller=reseller, rules=rules, manager=petr)

    saved = services.client_set_manager(actor=petr, client=client, manager=anna)

    client.refresh_from_db()
    assert client.manager == anna == saved.manager
    assert client.version == 2
    assert client.updated_by == petr.user
    [event] = events_of(client, EventType.MANAGER_CHANGED)
    assert event.visible_to_client
    assert event.actor == petr.user
    assert event.data["old_manager_id"] == petr.pk
    assert event.data["new_manager_id"] == anna.pk
    [message] = send_all()
    assert message.to == [client.accesses.get().user.email]
    assert message.body == "manager Кузнецов Пётр -> Белова Анна"


def test_the_log_words_the_change_in_the_readers_language(world, petr, anna):
    reseller, rules = world
    client = make_client(reseller=reseller, rules=rules)
    services.client_set_manager(actor=petr, client=client, manager=anna)
    [event] = events_of(client, EventType.MANAGER_CHANGED)

    with translation.override("en"):
        english = event_wording(event.event_type, event.data)
    with translation.override("ru"):
        russian = event_wording(event.event_type, event.data)

    assert english == ("Manager changed: nobody → Белова Анна", "Changed by Кузнецов Пётр.")
    assert russian == (
        "Менеджер изменён: не назначен → Белова Анна",
        "Изменено пользователем Кузнецов Пётр.",
    )


def test_no_manager_is_allowed(world, petr):
    reseller, rules = world
    client = make_client(reseller=reseller, rules=rules, manager=petr)

    services.client_set_manager(actor=petr, client=client, manager=None)

    client.refresh_from_db()
    assert client.manager is None
    [event] = events_of(client, EventType.MANAGER_CHANGED)
    assert event.data["new_manager"] is None


def test_the_same_manager_again_changes_and_logs_nothing(world, petr):
    reseller, rules = world
    client = make_client(reseller=reseller, rules=rules, manager=petr)

    services.client_set_manager(actor=petr, client=client, manager=petr)

    client.refresh_from_db()
    assert client.version == 1
    assert events_of(client, EventType.MANAGER_CHANGED) == []
    assert Delivery.objects.count() == 0


@pytest.mark.parametrize("who", ["inactive", "other reseller"])
def test_a_manager_who_cannot_look_after_the_client_is_refused(world, petr, root_reseller, who):
    reseller, rules = world
    client = make_client(reseller=reseller, rules=rules, manager=petr)
    if who == "inactive":
        chosen = make_manager(reseller=reseller, status=ManagerStatus.INACTIVE)
        message = "Select an active manager."
    else:
        chosen = make_manager(reseller=root_reseller)
        message = "Select a manager of your reseller."

    with translation.override("en"), pytest.raises(ValidationError) as raised:
        services.client_set_manager(actor=petr, client=client, manager=chosen)
    with translation.override("en"):
        assert raised.value.message_dict == {"manager": [message]}
    client.refresh_from_db()
    assert client.manager == petr
    assert client.version == 1
    assert client.events.count() == 0
    assert Delivery.objects.count() == 0


def test_an_inactive_actor_cannot_change_the_manager(world, petr, oleg, anna):
    reseller, rules = world
    client = make_client(reseller=reseller, rules=rules)

    with pytest.raises(ValidationError):
        services.client_set_manager(actor=oleg, client=client, manager=anna)

    client.refresh_from_db()
    assert client.manager is None


def test_the_client_page_offers_the_active_managers_and_saves(world, petr, petr_browser, anna):
    reseller, rules = world
    inactive = make_manager(reseller=reseller, status=ManagerStatus.INACTIVE, last_name="Спящий")
    client = make_client(reseller=reseller, rules=rules)
    url = reverse("clients:manager", args=[client.pk])

    page = petr_browser.get(reverse("clients:detail", args=[client.pk])).text
    assert url in page
    assert f'<option value="{anna.pk}">' in page
    assert f'value="{inactive.pk}"' not in page

    response = petr_browser.post(url, {"manager": anna.pk}, follow=True)
    assert response.redirect_chain[-1][0] == reverse("clients:detail", args=[client.pk])
    client.refresh_from_db()
    assert client.manager == anna
    # A second submit of the same form (double click, reload) changes nothing.
    again = in_english(petr_browser).post(url, {"manager": anna.pk}, follow=True)
    assert "This is the client&#x27;s manager already." in again.text
    assert len(events_of(client, EventType.MANAGER_CHANGED)) == 1


def test_a_forged_inactive_manager_is_refused_with_a_message(world, petr_browser):
    reseller, rules = world
    inactive = make_manager(reseller=reseller, status=ManagerStatus.INACTIVE)
    client = make_client(reseller=reseller, rules=rules)

    response = in_english(petr_browser).post(
        reverse("clients:manager", args=[client.pk]), {"manager": inactive.pk}, follow=True
    )

    assert response.status_code == 200
    assert "Select an active manager." in response.text
    client.refresh_from_db()
    assert client.manager is None
    assert client.events.count() == 0


def test_a_role_without_the_permission_gets_403_and_no_button(world):
    reseller, rules = world
    marketing = make_manager(reseller=reseller, role=ManagerRole.MARKETING)
    client = make_client(reseller=reseller, rules=rules)
    browser = HttpClient()
    browser.force_login(marketing.user)
    url = reverse("clients:manager", args=[client.pk])

    assert browser.post(url, {"manager": marketing.pk}).status_code == 403
    assert browser.get(url).status_code == 403
    assert url not in browser.get(reverse("clients:detail", args=[client.pk])).text
    client.refresh_from_db()
    assert client.manager is None


def test_the_post_needs_the_csrf_token(world, petr, anna):
    reseller, rules = world
    client = make_client(reseller=reseller, rules=rules)
    browser = HttpClient(enforce_csrf_checks=True)
    browser.force_login(petr.user)

    response = browser.post(reverse("clients:manager", args=[client.pk]), {"manager": anna.pk})

    assert response.status_code == 403
    client.refresh_from_db()
    assert client.manager is None
