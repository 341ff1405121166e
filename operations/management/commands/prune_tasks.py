"""``manage.py prune_tasks``: the task table upkeep, once (the worker runs it
every ``TASK_PRUNE_INTERVAL`` seconds; cron may run this instead)."""

from django.core.management.base import BaseCommand

from operations import services


class Command(BaseCommand):
    help = (
        "Delete finished task rows and delivery attempts older than their retention "
        "(TASK_RESULT_RETENTION_DAYS, TASK_FAILED_RETENTION_DAYS, "
        "DELIVERY_ATTEMPT_RETENTION_DAYS)."
    )

    def handle(self, *args, **options) -> None:
        deleted = services.task_tables_prune()
        self.stdout.write(", ".join(f"{kind}: {n} deleted" for kind, n in deleted.items()))
