"""Indexes for owner search among a million users, on PostgreSQL only.

One multi-column trigram GIN index over UPPER(email) and the three names
serves ``icontains`` on any of them (Django compiles it to UPPER(...) LIKE
UPPER(...)), the B-tree serves the results' order so that a common fragment
stops after twenty rows. SQLite gets neither; the model state is unchanged.
"""

from django.db import migrations

INDEXES = [
    (
        "users_user_search_trgm",
        "users_user",
        "USING gin (upper(email) gin_trgm_ops, upper(first_name) gin_trgm_ops, "
        "upper(middle_name) gin_trgm_ops, upper(last_name) gin_trgm_ops)",
    ),
    ("users_user_name_order", "users_user", "(last_name, first_name, email)"),
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
        ("users", "0001_initial"),
    ]

    operations = [
        migrations.RunPython(create_indexes, drop_indexes, elidable=False),
    ]
