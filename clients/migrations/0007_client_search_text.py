"""The list's search text (clients/search.py): the column, filled for the
clients there are, and its trigram index on PostgreSQL.

Filled batch by batch in key order, one UPDATE per client sent together
(executemany: psycopg pipelines them), so that a large table is filled in
minutes without holding a million rows in memory."""

from django.db import migrations, models

from clients.search import search_text
from operator_panel.migration_ops import postgresql_indexes

BATCH = 5_000


def fill(apps, schema_editor) -> None:
    Client = apps.get_model("clients", "Client")
    ClientAccess = apps.get_model("clients", "ClientAccess")
    connection = schema_editor.connection
    table = connection.ops.quote_name(Client._meta.db_table)
    statement = f"UPDATE {table} SET search_text = %s WHERE id = %s"  # noqa: S608 - a table name
    last = 0
    while True:
        batch = list(
            Client.objects.using(connection.alias)
            .filter(pk__gt=last)
            .order_by("pk")
            .values_list("pk", "name", "phone")[:BATCH]
        )
        if not batch:
            return
        owners = dict(
            ClientAccess.objects.using(connection.alias)
            .filter(client_id__in=[pk for pk, _name, _phone in batch], level="owner")
            .values_list("client_id", "user__email")
        )
        with connection.cursor() as cursor:
            cursor.executemany(
                statement,
                [
                    (search_text(name=name, phone=phone, owner_email=owners.get(pk)), pk)
                    for pk, name, phone in batch
                ],
            )
        last = batch[-1][0]


class Migration(migrations.Migration):
    dependencies = [
        ("clients", "0006_owner_email_check"),
    ]

    operations = [
        migrations.AddField(
            model_name="client",
            name="search_text",
            field=models.CharField(
                blank=True,
                default="",
                editable=False,
                max_length=1589,
                verbose_name="search text",
            ),
        ),
        migrations.RunPython(fill, migrations.RunPython.noop, elidable=True),
        postgresql_indexes(
            [
                (
                    "clients_client_search_trgm",
                    "clients_client",
                    "USING gin (search_text gin_trgm_ops)",
                )
            ]
        ),
    ]
