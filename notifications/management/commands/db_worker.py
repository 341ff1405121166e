"""``manage.py db_worker``: django-tasks-db's worker plus lease recovery.

django-tasks-db marks a task RUNNING when a worker claims it and never looks
at it again; if that worker dies (killed, out of memory, machine lost) the
task stays RUNNING for ever. This command (it takes the name because
notifications precedes django_tasks_db in INSTALLED_APPS) runs
``services.tasks_recover_expired`` before the worker starts and, while it
runs, every ``TASK_LEASE_CHECK_INTERVAL`` seconds in a background thread:
tasks RUNNING longer than ``TASK_LEASE_SECONDS`` are made READY again. The
options are those of django-tasks-db's command, except that ``--queue-name``
defaults to every queue of the default backend ("auth,default").
"""

import logging
import os
import threading
from argparse import ArgumentParser

from django.conf import settings
from django.db import close_old_connections, connections
from django.tasks import task_backends
from django.utils.autoreload import DJANGO_AUTORELOAD_ENV
from django_tasks_db.management.commands import db_worker

from notifications import services

logger = logging.getLogger(__name__)


def _recover(backend_name: str) -> None:
    try:
        services.tasks_recover_expired(backend_name=backend_name)
    except Exception:
        # A database hiccup must not stop the worker; the next round tries again.
        logger.exception("Recovering expired tasks failed.")


def _recover_forever(backend_name: str, stop: threading.Event, interval: float) -> None:
    while not stop.wait(interval):
        close_old_connections()
        _recover(backend_name)
        # This thread's connection: do not hold it open between rounds.
        connections.close_all()


class Command(db_worker.Command):
    help = "Run the database task worker, recovering tasks whose worker died."

    def add_arguments(self, parser: ArgumentParser) -> None:
        super().add_arguments(parser)
        # Every queue the default backend declares (TASKS "QUEUES": client
        # notifications and password-reset emails), not django-tasks-db's
        # "default" alone: a worker started without --queue-name must not
        # leave the reset emails unsent.
        parser.set_defaults(queue_name=",".join(sorted(task_backends["default"].queues)))

    def handle(self, *args, **options) -> None:
        backend_name = options["backend_name"]
        reloading_parent = options["reload"] and os.environ.get(DJANGO_AUTORELOAD_ENV) != "true"
        if reloading_parent and not options["batch"]:
            # The autoreloader's parent only watches files; its child does the work.
            return super().handle(*args, **options)
        _recover(backend_name)
        stop = threading.Event()
        if not options["batch"]:
            threading.Thread(
                target=_recover_forever,
                args=(backend_name, stop, settings.TASK_LEASE_CHECK_INTERVAL),
                name="task-lease-recovery",
                daemon=True,
            ).start()
        try:
            return super().handle(*args, **options)
        finally:
            stop.set()
