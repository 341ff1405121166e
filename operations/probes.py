"""``/health/live``, ``/health/ready`` and ``/metrics``: the answers for load
balancers and monitoring.

They are answered by ``ProbeMiddleware``, first in ``MIDDLEWARE``, before
anything that would get in a probe's way or leave a trace: no host check (a
load balancer probes each node by its address, which is not in
``ALLOWED_HOSTS``), no HTTPS redirect (probes speak plain HTTP to the node),
no session (no cookie is set, no ``Vary: Cookie``), no CSP header, no request
log line and no request metrics. That is also why they are not URL patterns.

Why not django-health-check: its releases for Python 3.13 (4.8 and older;
4.9 on need Python 3.14) answer a failure with 500 rather than 503, key the
JSON by each check's ``repr``, run synchronous checks in threads of an async
view, outside the request's database connection, and bring dnspython along;
three of our four checks (migrations, queue age, worker heartbeat) would be
our own code either way.
"""

import hmac
import logging
import os
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.db import DatabaseError, connections, transaction
from django.http import HttpRequest, HttpResponse, JsonResponse
from prometheus_client import CollectorRegistry, multiprocess
from prometheus_client.django import PrometheusDjangoView
from prometheus_client.registry import REGISTRY

from operations import selectors
from operations.collectors import DatabaseCollector

logger = logging.getLogger(__name__)

LIVE_PATH = "/health/live"
READY_PATH = "/health/ready"
METRICS_PATH = "/metrics"


def _no_store(response: HttpResponse) -> HttpResponse:
    response["Cache-Control"] = "no-store"
    return response


def health_live(request: HttpRequest) -> HttpResponse:
    """The process answers: no database, nothing else looked at."""
    return _no_store(JsonResponse({"status": "ok"}))


# Once the database has every migration this code knows, it keeps having
# them until new code (a new process) comes; no need to read the migration
# files on every probe.
_migrations_seen_applied = False


def _check_database() -> dict[str, Any]:
    with connections["default"].cursor() as cursor:
        cursor.execute("SELECT 1")
        cursor.fetchone()
    return {}


def _check_migrations() -> dict[str, Any]:
    global _migrations_seen_applied
    if not _migrations_seen_applied:
        pending = selectors.migrations_pending()
        if pending:
            return {"error": f"{len(pending)} migration(s) not applied", "pending": pending[:10]}
        _migrations_seen_applied = True
    return {}


def _check_task_queue() -> dict[str, Any]:
    limit = settings.HEALTH_QUEUE_MAX_AGE
    age = selectors.task_queue_stats().oldest_ready_age
    details: dict[str, Any] = {"oldest_ready_age_seconds": round(age, 1), "max": limit}
    if limit and age > limit:
        details["error"] = "the oldest ready task has waited too long"
    return details


def _check_worker_heartbeat() -> dict[str, Any]:
    limit = settings.HEALTH_WORKER_HEARTBEAT_MAX_AGE
    age = selectors.worker_heartbeat_age()
    details: dict[str, Any] = {
        "age_seconds": None if age is None else round(age, 1),
        "max": limit,
    }
    if age is None:
        details["error"] = "no task worker has written a heartbeat"
    elif age > limit:
        details["error"] = "the task workers' heartbeat is stale"
    return details


# In order; a setting of 0 turns the queue or heartbeat check off.
READY_CHECKS: list[tuple[str, Callable[[], dict[str, Any]]]] = [
    ("database", _check_database),
    ("migrations", _check_migrations),
    ("task_queue", _check_task_queue),
    ("worker_heartbeat", _check_worker_heartbeat),
]


def _enabled(name: str) -> bool:
    if name == "task_queue":
        return bool(settings.HEALTH_QUEUE_MAX_AGE)
    if name == "worker_heartbeat":
        return bool(settings.HEALTH_WORKER_HEARTBEAT_MAX_AGE)
    return True


def _statement_timeout() -> None:
    connection = connections["default"]
    if connection.vendor == "postgresql":
        # A database that hangs must not hang the probe (the balancer's own
        # timeout would then decide); SET LOCAL ends with the transaction.
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT set_config('statement_timeout', %s, true)",
                [f"{int(settings.HEALTH_STATEMENT_TIMEOUT * 1000)}ms"],
            )


def health_ready(request: HttpRequest) -> HttpResponse:
    """Ready for traffic: 200 when every check passes, else 503 naming the
    failed checks. After a failed database check the others are skipped."""
    results: dict[str, dict[str, Any]] = {}
    failed: list[str] = []
    database_ok = True
    for name, check in READY_CHECKS:
        if not _enabled(name):
            results[name] = {"ok": True, "disabled": True}
            continue
        if not database_ok:
            results[name] = {"ok": False, "skipped": "the database is unreachable"}
            continue
        try:
            with transaction.atomic():
                _statement_timeout()
                details = check()
        except DatabaseError as error:
            details = {"error": f"{type(error).__name__}: {' '.join(str(error).split())}"[:300]}
            if name == "database":
                database_ok = False
        ok = "error" not in details
        results[name] = {"ok": ok, **details}
        if not ok:
            failed.append(name)
    if not database_ok:
        # The connection is broken: give the next probe a fresh one.
        connections["default"].close()
    body = {"status": "fail" if failed else "ok", "failed": failed, "checks": results}
    response = _no_store(JsonResponse(body, status=503 if failed else 200))
    if failed:
        logger.warning("Readiness failed: %s", ", ".join(failed))
        # Said once, above: not again as an error of django.request for every
        # probe of a balancer during an outage.
        response._has_been_logged = True  # type: ignore[attr-defined]
    return response


class MetricsView(PrometheusDjangoView):
    """The prometheus client's Django view behind a bearer token, with the
    database's figures added (operations.collectors)."""

    def get(self, request: HttpRequest, *args, **kwargs) -> HttpResponse:
        token = settings.METRICS_TOKEN
        if not token:
            return HttpResponse("Not found.\n", status=404, content_type="text/plain")
        given = request.headers.get("Authorization", "")
        scheme, _, credentials = given.partition(" ")
        if scheme.lower() != "bearer" or not hmac.compare_digest(
            credentials.strip().encode(), token.encode()
        ):
            response = HttpResponse("Unauthorized.\n", status=401, content_type="text/plain")
            response["WWW-Authenticate"] = 'Bearer realm="metrics"'
            return response
        self.registry = metrics_registry()
        return _no_store(super().get(request, *args, **kwargs))


class _ThisProcess:
    """The default registry as a collector (single-process mode)."""

    def collect(self):
        return REGISTRY.collect()


def metrics_registry(*, database: bool = True) -> CollectorRegistry:
    """What one scrape reports: every process's metrics (multiprocess mode,
    under gunicorn and beside the workers) or this process's, plus (unless
    ``database`` is false) the figures read from the database."""
    registry = CollectorRegistry(auto_describe=False)
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        multiprocess.MultiProcessCollector(registry)
    else:
        registry.register(_ThisProcess())
    if database:
        registry.register(DatabaseCollector())
    return registry


_ROUTES: dict[str, Callable[[HttpRequest], HttpResponse]] = {
    LIVE_PATH: health_live,
    READY_PATH: health_ready,
    METRICS_PATH: MetricsView.as_view(),
}


class ProbeMiddleware:
    """Answer the probes before any other middleware (see the module's doc)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        view = _ROUTES.get(request.path_info.rstrip("/") or "/")
        if view is None:
            return self.get_response(request)
        if request.method not in ("GET", "HEAD"):
            response = HttpResponse(status=405)
            response["Allow"] = "GET, HEAD"
            return response
        return view(request)
