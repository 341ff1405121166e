"""A trigram index for Django admin's client search, on PostgreSQL only.

The admin searches the ID, the name, the company name, the email and the
phone (ClientAdmin.search_fields). Name and phone have their trigram indexes
(0002); this one serves the other two, so that every branch of the search's
OR is an index scan: one column without an index makes PostgreSQL read the
whole table for all of them. One multi-column GIN index serves a condition
on either column. SQLite gets nothing; the model state does not change.
"""

from django.db import migrations

INDEXES = [
    (
        "clients_client_admin_search_trgm",
        "clients_client",
        "USING gin (upper(company_name) gin_trgm_ops, upper(email) gin_trgm_ops)",
    ),
]


def create_indexes(apps, schema_editor) -> None:
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    for name, table, definition in INDEXES:
        schema_editor.execute(f"CREATE INDEX IF NOT EXISTS {name} ON {table} {definition}")


def drop_indexes(apps, schema_editor) -> None:
    if schema_editor.connection.vendor != "postgresql":
        return
    for name, _table, _definition in INDEXES:
        schema_editor.execute(f"DROP INDEX IF EXISTS {name}")


class Migration(migrations.Migration):
    dependencies = [
        ("clients", "0002_scale_indexes"),
    ]

    operations = [
        migrations.RunPython(create_indexes, drop_indexes, elidable=False),
    ]
