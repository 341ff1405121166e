"""Operations shared by the migrations that tune PostgreSQL for scale."""

from django.db import migrations


def postgresql_indexes(
    indexes: list[tuple[str, str, str]], *, concurrently: bool = False
) -> migrations.RunPython:
    """Create (and on the way back drop) raw indexes on PostgreSQL only.

    Each index is ``(name, table, definition after "ON table")``. The indexes
    are invisible to Django's model state, so ``makemigrations --check`` stays
    clean; SQLite (development and tests, small tables) gets none of them.
    pg_trgm is created first, as trigram indexes need it. ``concurrently``
    (in a migration that is not atomic) builds them without blocking writes.
    """
    how = "CONCURRENTLY " if concurrently else ""

    def create(apps, schema_editor) -> None:
        if schema_editor.connection.vendor != "postgresql":
            return
        schema_editor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
        for name, table, definition in indexes:
            if concurrently and _invalid(schema_editor, name):
                # A concurrent build that was stopped leaves an invalid index
                # behind, which IF NOT EXISTS would keep.
                schema_editor.execute(f"DROP INDEX CONCURRENTLY {name}")
            schema_editor.execute(f"CREATE INDEX {how}IF NOT EXISTS {name} ON {table} {definition}")

    def drop(apps, schema_editor) -> None:
        if schema_editor.connection.vendor != "postgresql":
            return
        for name, _table, _definition in indexes:
            schema_editor.execute(f"DROP INDEX {how}IF EXISTS {name}")

    return migrations.RunPython(create, drop, elidable=False)


def _invalid(schema_editor, name: str) -> bool:
    with schema_editor.connection.cursor() as cursor:
        cursor.execute(
            "SELECT NOT indisvalid FROM pg_index WHERE indexrelid = to_regclass(%s)", [name]
        )
        row = cursor.fetchone()
    return bool(row and row[0])
