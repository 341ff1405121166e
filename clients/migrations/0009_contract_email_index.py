"""The API's ``filter[email]`` (a client's contract email in any letter case,
``UPPER(contract_email) = UPPER(…)``) served by an index on PostgreSQL: at a
million clients it read the whole table, 1.3 s for one match. Built
CONCURRENTLY (not atomic), without blocking writes; then the table analysed:
an expression index has no statistics until then, and without them the planner
expects thousands of matches and keeps walking the table in ID order. The same
ANALYZE gives the search text filled by clients/0008 its statistics, which
decide between walking the list's order and reading the trigram index."""

from django.db import migrations

from operator_panel.migration_ops import postgresql_indexes


def analyse(apps, schema_editor) -> None:
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("ANALYZE clients_client")


class Migration(migrations.Migration):
    atomic = False

    dependencies = [
        ("clients", "0008_client_search_text_fill"),
    ]

    operations = [
        postgresql_indexes(
            [
                (
                    "clients_client_contract_email_upper",
                    "clients_client",
                    "(upper(contract_email))",
                )
            ],
            concurrently=True,
        ),
        migrations.RunPython(analyse, migrations.RunPython.noop, elidable=True),
    ]
