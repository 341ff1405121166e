"""seed_scale, the benchmark's loader, keeps up with the schema: its COPY
names the client table's columns itself, so a new NOT NULL column without a
database default (the edit page's ``version``) broke `make bench` without a
test noticing. Loading a few clients proves the columns still fit."""

import pytest
from django.core.management import call_command
from django.db import connection

from clients.models import Client, ClientAccess

pytestmark = [
    pytest.mark.skipif(connection.vendor != "postgresql", reason="seed_scale is PostgreSQL only"),
    pytest.mark.django_db(transaction=True),
]


def test_seed_scale_loads_clients_that_the_panel_reads(capsys):
    call_command("seed_scale", "--clients", "40", "--resellers", "2", "--managers", "2")
    assert "done: 40 clients" in capsys.readouterr().out
    clients = Client.objects.all()
    assert clients.count() == 40
    assert set(clients.values_list("version", flat=True)) == {1}
    assert ClientAccess.objects.filter(level="owner").count() == 40
    # Every row is whole: the model reads each one back.
    assert all(client.name and client.reseller_id for client in clients)
