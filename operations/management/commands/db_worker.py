"""``manage.py db_worker``: the notifications app's worker (django-tasks-db's
worker plus lease recovery), plus a heartbeat, the table upkeep and, where
asked, a metrics port.

- **Heartbeat.** Every ``WORKER_HEARTBEAT_INTERVAL`` seconds a background
  thread upserts this worker's ``WorkerHeartbeat`` row (it is deleted on a
  clean stop); ``/health/ready`` fails when no worker's row moved within
  ``HEALTH_WORKER_HEARTBEAT_MAX_AGE``. The database is what all machines share.
- **Upkeep.** Every ``TASK_PRUNE_INTERVAL`` seconds (0: never; about a minute
  after start first) another thread runs ``manage.py prune_tasks``'s work:
  finished task rows and old delivery attempts past their retention.
  Several workers may run it: a batch is taken under a transaction-level
  advisory lock, so only one of them deletes at a time.
- **Outages.** The database going away (a restart, a failover) does not end
  the worker: its loop (claiming, marking a task done) waits
  ``WORKER_DATABASE_RETRY_SECONDS`` and starts again with a new connection.
  A task cut off meanwhile stays RUNNING and lease recovery hands it out again.
- **Metrics.** Under ``PROMETHEUS_MULTIPROC_DIR`` (shared with gunicorn on the
  same machine) the worker's counters join the web node's ``/metrics``. A
  worker on a machine of its own can serve them itself on
  ``WORKER_METRICS_PORT`` (bound to ``WORKER_METRICS_ADDR``, loopback by
  default).
"""

import logging
import os
import random
import socket
import threading
import time

from django.conf import settings
from django.db import close_old_connections, connections
from django.utils import timezone
from django.utils.autoreload import DJANGO_AUTORELOAD_ENV

from notifications.management.commands import db_worker
from operations import services
from operator_panel.database import DATABASE_UNAVAILABLE

logger = logging.getLogger(__name__)


def _beat(**identity) -> None:
    try:
        services.worker_heartbeat_beat(**identity)
    except Exception:
        # The database may be restarting; the next beat tries again.
        logger.warning("Writing the worker heartbeat failed.", exc_info=True)


def _every(interval: float, stop: threading.Event, work, *, first_delay: float) -> None:
    if stop.wait(first_delay):
        return
    while True:
        close_old_connections()
        work()
        # This thread's connection: do not hold it open between rounds.
        connections.close_all()
        if stop.wait(interval):
            return


def _prune() -> None:
    try:
        services.task_tables_prune()
    except Exception:
        logger.warning("Pruning the task tables failed.", exc_info=True)


def _first_prune_delay(interval: float) -> float:
    # About a minute after start (sooner with a shorter interval), spread out.
    first = min(interval, 60.0)
    return first + random.uniform(0, first)


def _serve_metrics() -> None:
    port = os.environ.get("WORKER_METRICS_PORT")
    if not port:
        return
    from prometheus_client import start_http_server

    from operations.probes import metrics_registry

    addr = os.environ.get("WORKER_METRICS_ADDR", "127.0.0.1")
    start_http_server(int(port), addr=addr, registry=metrics_registry(database=False))
    logger.info("Worker metrics on http://%s:%s/metrics", addr, port)


class Command(db_worker.Command):
    help = (
        "Run the database task worker: lease recovery, a heartbeat for /health/ready, "
        "and the pruning of old task rows and delivery attempts."
    )

    def handle(self, *args, **options) -> None:
        reloading_parent = options["reload"] and os.environ.get(DJANGO_AUTORELOAD_ENV) != "true"
        if reloading_parent or options["batch"]:
            # The autoreloader's parent only watches files; a batch run ends soon.
            return super().handle(*args, **options)
        identity = {
            "worker_id": options["worker_id"],
            "hostname": socket.gethostname(),
            "pid": os.getpid(),
            "started_at": timezone.now(),
        }
        stop = threading.Event()
        _beat(**identity)
        threading.Thread(
            target=_every,
            args=(settings.WORKER_HEARTBEAT_INTERVAL, stop, lambda: _beat(**identity)),
            kwargs={"first_delay": settings.WORKER_HEARTBEAT_INTERVAL},
            name="worker-heartbeat",
            daemon=True,
        ).start()
        if settings.TASK_PRUNE_INTERVAL:
            threading.Thread(
                target=_every,
                args=(settings.TASK_PRUNE_INTERVAL, stop, _prune),
                # Workers started together do not all prune at once.
                kwargs={"first_delay": _first_prune_delay(settings.TASK_PRUNE_INTERVAL)},
                name="task-prune",
                daemon=True,
            ).start()
        _serve_metrics()
        try:
            while True:
                try:
                    return super().handle(*args, **options)
                except DATABASE_UNAVAILABLE:
                    logger.warning(
                        "The worker lost the database; starting again in %s s.",
                        settings.WORKER_DATABASE_RETRY_SECONDS,
                        exc_info=True,
                    )
                    connections.close_all()
                    time.sleep(settings.WORKER_DATABASE_RETRY_SECONDS)
        finally:
            stop.set()
            try:
                services.worker_heartbeat_stop(worker_id=identity["worker_id"])
            except Exception:
                logger.warning("Removing the worker heartbeat failed.", exc_info=True)
