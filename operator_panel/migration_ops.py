"""Operations shared by the migrations that tune PostgreSQL for scale."""

from django.db import migrations


def postgresql_indexes(indexes: list[tuple[str, str, str]]) -> migrations.RunPython:
    """Create (and on the way back drop) raw indexes on PostgreSQL only.

    Each index is ``(name, table, definition after "ON table")``. The indexes
    are invisible to Django's model state, so ``makemigrations --check`` stays
    clean; SQLite (development and tests, small tables) gets none of them.
    pg_trgm is created first, as trigram indexes need it.
    """

    def create(apps, schema_editor) -> None:
        if schema_editor.connection.vendor != "postgresql":
            return
        schema_editor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
        for name, table, definition in indexes:
            schema_editor.execute(f"CREATE INDEX IF NOT EXISTS {name} ON {table} {definition}")

    def drop(apps, schema_editor) -> None:
        if schema_editor.connection.vendor != "postgresql":
            return
        for name, _table, _definition in indexes:
            schema_editor.execute(f"DROP INDEX IF EXISTS {name}")

    return migrations.RunPython(create, drop, elidable=False)
