"""notify(): queued in the caller's transaction, per the reseller's handler."""

from urllib.parse import urlsplit

import pytest
from django.core import mail
from django.db import transaction
from django.test import Client as HttpClient
from django_tasks_db.models import DBTaskResult

from clients.models import EventType
from notifications.models import Delivery, DeliveryStatus, EventHandler
from notifications.services import notify
from notifications.tasks import deliver_notification
from tests.conftest import make_client
from tests.notifications.conftest import link_in, make_template, run_worker


class Rollback(Exception):
    pass


@pytest.mark.django_db(transaction=True)
def test_rolled_back_client_sends_nothing(root_reseller, root_rules, owner, root_handler, irina):
    with pytest.raises(Rollback), transaction.atomic():
        client = make_client(reseller=root_reseller, rules=root_rules, owner=owner)
        assert len(notify(event=EventType.CLIENT_CREATED, client=client, actor=irina.user)) == 1
        raise Rollback

    run_worker()

    assert Delivery.objects.count() == 0
    assert DBTaskResult.objects.count() == 0
    assert mail.outbox == []


@pytest.mark.django_db(transaction=True)
def test_committed_client_sends_one_email_to_owner(
    root_reseller, root_rules, owner, root_handler, irina
):
    with transaction.atomic():
        client = make_client(reseller=root_reseller, rules=root_rules, owner=owner, name="Ромашка")
        [delivery] = notify(event=EventType.CLIENT_CREATED, client=client, actor=irina.user)

    run_worker()
    run_worker()  # a second pass finds nothing left to send

    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == ["owner@client.example"]
    assert message.subject == "Клиент Ромашка создан"  # Russian: the reseller's default
    assert message.extra_headers["Message-ID"] == delivery.message_id
    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.SENT
    assert delivery.attempts == 1
    assert delivery.subject == "Клиент Ромашка создан"
    assert delivery.actor == irina.user
    assert [a.outcome for a in delivery.attempt_log.all()] == ["sent"]
    # The link works once.
    path = urlsplit(link_in(message)).path
    browser = HttpClient()
    password = "Tverskaya-street-1-kiosk"
    response = browser.post(path, {"new_password1": password, "new_password2": password})
    assert response.status_code == 302
    owner.refresh_from_db()
    assert owner.check_password(password)
    assert 'data-testid="link-used"' in browser.get(path).text


def test_task_args_hold_only_the_delivery_id(client_of_root, root_handler):
    [delivery] = notify(event=EventType.CLIENT_CREATED, client=client_of_root, actor=None)

    task_row = DBTaskResult.objects.get()
    assert task_row.task_path == deliver_notification.module_path
    assert task_row.args_kwargs == {"args": [], "kwargs": {"delivery_id": delivery.pk}}
    assert delivery.task_id == str(task_row.id)
    assert delivery.status == DeliveryStatus.QUEUED
    assert delivery.recipient == "owner@client.example"


@pytest.mark.django_db(transaction=True)
def test_english_reseller_gets_english_email(root_reseller, client_of_root, root_handler):
    root_reseller.notification_language = "en"
    root_reseller.save()
    notify(event=EventType.CLIENT_CREATED, client=client_of_root, actor=None)

    run_worker()

    assert [m.subject for m in mail.outbox] == ["Client Ромашка created"]
    assert Delivery.objects.get().language == "en"


def test_handler_off_queues_nothing(client_of_root, root_handler):
    root_handler.enabled = False
    root_handler.save()

    assert notify(event=EventType.CLIENT_CREATED, client=client_of_root, actor=None) == []
    assert not Delivery.objects.exists()
    assert not DBTaskResult.objects.exists()


def test_no_handler_queues_nothing(client_of_root):
    assert notify(event=EventType.CLIENT_CREATED, client=client_of_root, actor=None) == []
    assert not DBTaskResult.objects.exists()


def test_other_event_without_handler_queues_nothing(client_of_root, root_handler):
    assert notify(event=EventType.STATUS_CHANGED, client=client_of_root, actor=None) == []


def test_sub_reseller_uses_parents_handler(sub_reseller, sub_rules, root_handler, owner):
    client = make_client(reseller=sub_reseller, rules=sub_rules, owner=owner)

    [delivery] = notify(event=EventType.CLIENT_CREATED, client=client, actor=None)

    assert delivery.handler == root_handler


def test_sub_resellers_own_handler_wins(sub_reseller, sub_rules, root_handler, owner):
    own = EventHandler.objects.create(
        reseller=sub_reseller, event=EventType.CLIENT_CREATED, template=make_template("own")
    )
    client = make_client(reseller=sub_reseller, rules=sub_rules, owner=owner)

    [delivery] = notify(event=EventType.CLIENT_CREATED, client=client, actor=None)

    assert delivery.handler == own
    assert delivery.template == own.template


def test_sub_resellers_disabled_handler_stops_parents(sub_reseller, sub_rules, root_handler, owner):
    EventHandler.objects.create(
        reseller=sub_reseller,
        event=EventType.CLIENT_CREATED,
        template=root_handler.template,
        enabled=False,
    )
    client = make_client(reseller=sub_reseller, rules=sub_rules, owner=owner)

    assert notify(event=EventType.CLIENT_CREATED, client=client, actor=None) == []
