"""Figures read from the database when ``/metrics`` is scraped.

The queue and the workers' heartbeats are shared by every machine, so they
are read from the database at scrape time rather than kept by any one
process: each web node reports the same values (alert on ``max`` over them).
A database that cannot be reached makes these families absent and sets
``panel_metrics_db_up`` to 0, rather than failing the whole scrape.
"""

import logging
from collections.abc import Iterator

from django.db import DatabaseError
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

from operations import selectors

logger = logging.getLogger(__name__)


class DatabaseCollector(Collector):
    """The task queue and worker heartbeats, from the primary database."""

    def collect(self) -> Iterator[GaugeMetricFamily]:
        up = GaugeMetricFamily(
            "panel_metrics_db_up", "1 when the figures below could be read from the database."
        )
        try:
            stats = selectors.task_queue_stats()
            heartbeat_age = selectors.worker_heartbeat_age()
        except DatabaseError:
            logger.warning("Metrics: the database could not be read.", exc_info=True)
            up.add_metric([], 0)
            yield up
            return
        up.add_metric([], 1)
        yield up
        depth = GaugeMetricFamily(
            "panel_task_queue_depth",
            "Tasks waiting (ready) or running, by queue and status.",
            labels=["queue", "status"],
        )
        for (queue, status), count in sorted(stats.counts.items()):
            depth.add_metric([queue, status.lower()], count)
        yield depth
        yield GaugeMetricFamily(
            "panel_task_oldest_ready_age_seconds",
            "How long the oldest task ready to run has been waiting (0 when none is).",
            value=stats.oldest_ready_age,
        )
        age = GaugeMetricFamily(
            "panel_worker_heartbeat_age_seconds",
            "Seconds since the freshest task worker heartbeat (absent when no worker runs).",
        )
        if heartbeat_age is not None:
            age.add_metric([], heartbeat_age)
        yield age
