"""No parallel workers for scans of users_user, on PostgreSQL only.

The owner search (users.selectors.owner_search) runs on every keystroke and
reads at most a thousand users through the trigram index. PostgreSQL plans
it with two parallel workers when a fragment is common, and starting them
costs more than they save: about 20 ms instead of 14 ms alone, and worse on a
two-core machine where the other web worker needs the second core. The
table's storage parameter turns parallel scans of this table off and leaves
every other table's plans alone. SQLite has no such thing.
"""

from django.db import migrations


def serial_scans(apps, schema_editor) -> None:
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("ALTER TABLE users_user SET (parallel_workers = 0)")


def default_scans(apps, schema_editor) -> None:
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("ALTER TABLE users_user RESET (parallel_workers)")


class Migration(migrations.Migration):
    dependencies = [
        ("users", "0002_scale_indexes"),
    ]

    operations = [
        migrations.RunPython(serial_scans, default_scans, elidable=False),
    ]
