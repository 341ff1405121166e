"""Indexes on django-tasks-db's table for the reads of this app. The table
keeps a row per email sent until it is pruned (a million is ordinary):

- the pruning of finished rows (operations.services) finds them by
  ``finished_at`` instead of scanning the table in every batch;
- the queue figures of /health/ready and /metrics (operations.selectors)
  count the waiting and running rows without reading the finished ones.
"""

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
                (
                    "operations_task_waiting_idx",
                    "django_tasks_database_dbtaskresult",
                    "(backend_name, queue_name, status) WHERE status IN ('READY', 'RUNNING')",
                ),
            ]
        ),
    ]
