"""services.client_event_record: the one way a change of a client is
recorded, its event-log entry and (for the events that have one) its
notification written together, inside the change's transaction."""

import pytest
from django.db import transaction
from django.utils import translation

from clients import services
from clients.models import ClientEvent, ClientStatus, EventType, PostpayPermission
from notifications.models import Channel, Delivery, EventHandler
from tests.conftest import make_client
from users.models import PostpayMode


@pytest.fixture
def handlers(client_created_handler, root_reseller):
    """A handler for every event type, so that only NOTIFIED_EVENTS decides."""
    for event in EventType:
        if event != EventType.CLIENT_CREATED:
            EventHandler.objects.create(
                reseller=root_reseller,
                event=event,
                channel=Channel.EMAIL,
                template=client_created_handler.template,
            )


@pytest.fixture
def client(sub_reseller, sub_rules):
    return make_client(reseller=sub_reseller, rules=sub_rules)


def test_an_entry_worded_from_its_data_and_notified(client, petr, handlers):
    with translation.override("en"), transaction.atomic():
        event = services.client_event_record(
            client=client,
            actor=petr.user,
            event_type=EventType.STATUS_CHANGED,
            data={"old_status": "active", "new_status": "deleted", "actor": "Пётр"},
            visible_to_client=True,
        )
    assert (event.subject, event.description) == (
        "Status changed: Active → Deleted",
        "Changed by Пётр.",
    )
    assert Delivery.objects.get(client=client).event == EventType.STATUS_CHANGED


def test_events_without_a_notification_are_only_logged(client, petr, handlers):
    with transaction.atomic():
        services.client_event_record(
            client=client,
            actor=petr.user,
            event_type=EventType.POSTPAY_DECIDED,
            data={"old_permission": "not_verified", "new_permission": "approved", "actor": "П"},
            visible_to_client=False,
        )
    assert ClientEvent.objects.filter(client=client).count() == 1
    assert not Delivery.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_outside_a_transaction_nothing_is_recorded(sub_reseller, sub_rules, petr):
    client = make_client(reseller=sub_reseller, rules=sub_rules)
    with pytest.raises(RuntimeError):
        services.client_event_record(
            client=client,
            actor=None,
            event_type=EventType.STATUS_CHANGED,
            data={"old_status": "active", "new_status": "deleted", "actor": None},
            visible_to_client=True,
        )
    assert not ClientEvent.objects.exists()


def test_every_service_records_through_it(client, petr, sub_reseller, monkeypatch):
    recorded = []
    original = services.client_event_record

    def spy(**kwargs):
        recorded.append(kwargs["event_type"])
        return original(**kwargs)

    monkeypatch.setattr(services.lifecycle, "client_event_record", spy)
    sub_reseller.postpay_mode = PostpayMode.MANUAL
    sub_reseller.save()
    services.client_set_credit_hold(client=client)
    services.client_set_status(actor=petr, client=client, status=ClientStatus.DELETED)
    services.client_decide_postpay(actor=petr, client=client, decision=PostpayPermission.APPROVED)
    assert recorded == [
        EventType.STATUS_CHANGED,
        EventType.STATUS_CHANGED,
        EventType.POSTPAY_DECIDED,
    ]
    assert ClientEvent.objects.filter(client=client).count() == 3
