"""The list's search text (clients/search.py) filled for the clients there
are, and its trigram index on PostgreSQL.

Not atomic: each batch of 5,000 clients, in key order, is its own
transaction (only the rows whose text differs are written, one UPDATE each,
sent together), so that the panel keeps reading and writing while a large
table is filled (1,000,000 clients: about two minutes, docs/scale.md) and a
migration stopped half-way starts again where the text is still missing; the
index is built CONCURRENTLY, without blocking writes.
Clients created meanwhile by the previous release are filled by
``manage.py client_search_rebuild`` after the upgrade."""

from django.db import migrations, transaction

from clients.search import search_text
from operator_panel.migration_ops import postgresql_indexes

BATCH = 5_000


def fill(apps, schema_editor) -> None:
    Client = apps.get_model("clients", "Client")
    ClientAccess = apps.get_model("clients", "ClientAccess")
    alias = schema_editor.connection.alias
    table = schema_editor.connection.ops.quote_name(Client._meta.db_table)
    statement = f"UPDATE {table} SET search_text = %s WHERE id = %s"  # noqa: S608 - a table name
    clients = Client.objects.using(alias).order_by("pk")
    last = 0
    while batch := list(
        clients.filter(pk__gt=last).values_list("pk", "name", "phone", "search_text")[:BATCH]
    ):
        owners = dict(
            ClientAccess.objects.using(alias)
            .filter(client_id__in=[row[0] for row in batch], level="owner")
            .values_list("client_id", "user__email")
        )
        changed = []
        for pk, name, phone, stored in batch:
            text = search_text(name=name, phone=phone, owner_email=owners.get(pk))
            if text != stored:
                changed.append((text, pk))
        if changed:
            with transaction.atomic(using=alias), schema_editor.connection.cursor() as cursor:
                cursor.executemany(statement, changed)
        last = batch[-1][0]


class Migration(migrations.Migration):
    atomic = False

    dependencies = [
        ("clients", "0007_client_search_text"),
    ]

    operations = [
        migrations.RunPython(fill, migrations.RunPython.noop, elidable=True),
        postgresql_indexes(
            [
                (
                    "clients_client_search_trgm",
                    "clients_client",
                    "USING gin (search_text gin_trgm_ops)",
                )
            ],
            concurrently=True,
        ),
    ]
