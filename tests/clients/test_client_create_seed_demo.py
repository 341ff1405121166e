"""The demo data is made through client_create, and running it again adds nothing."""

import io

from django.core.management import call_command

from clients.models import AccessLevel, Client, ClientAccess, ClientEvent, EventType, TermsStatus
from users.models import User


def test_seed_demo_creates_clients_through_the_service_once(db):
    call_command("seed_demo", stdout=io.StringIO())
    counts = (Client.objects.count(), User.objects.count(), ClientEvent.objects.count())
    call_command("seed_demo", stdout=io.StringIO())

    assert (Client.objects.count(), User.objects.count(), ClientEvent.objects.count()) == counts
    assert Client.objects.count() == 4
    for client in Client.objects.all():
        assert ClientAccess.objects.filter(client=client, level=AccessLevel.OWNER).count() == 1
        assert client.events.filter(event_type=EventType.CLIENT_CREATED).exists()
        assert client.created_by is not None
    partner_client = Client.objects.get(name="Новикова Елена Сергеевна")
    assert partner_client.terms_status == TermsStatus.ACCEPTED  # the partner asks for terms
    assert Client.objects.get(name="Ромашка").attribute_values.count() == 3
