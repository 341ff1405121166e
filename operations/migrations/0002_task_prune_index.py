"""An index for the pruning of finished task rows (operations.services):
without it every prune batch scans the whole task table (a row per email)."""

from django.db import migrations

from operator_panel.migration_ops import postgresql_indexes


class Migration(migrations.Migration):
    dependencies = [
        ("operations", "0001_worker_heartbeat"),
        ("django_tasks_database", "0021_conditional_partial_index_ordering"),
    ]

    operations = [
        postgresql_indexes(
            [
                (
                    "operations_task_finished_idx",
                    "django_tasks_database_dbtaskresult",
                    "(finished_at) WHERE status IN ('SUCCESSFUL', 'FAILED')",
                ),
            ]
        ),
    ]
