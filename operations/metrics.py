"""The panel's Prometheus metrics, in one place.

Every process records into these objects: the web nodes (gunicorn's workers),
the task workers and management commands. Under gunicorn the prometheus
client's multiprocess mode is on (``PROMETHEUS_MULTIPROC_DIR``, set by
``gunicorn.conf.py``): each process writes its values to files in that
directory and ``/metrics`` adds them up. Figures read from the database (queue
depth, the oldest ready task, the workers' heartbeats) are not recorded here:
``operations.collectors`` reads them when ``/metrics`` is scraped.

This module imports nothing of the project, so that any app may call it
(``clients.directory`` does) without an import loop.
"""

from prometheus_client import Counter, Gauge, Histogram

# Seconds; a page answers in tens of milliseconds, the export in minutes.
LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300)
QUERY_BUCKETS = (0, 1, 2, 5, 10, 20, 30, 50, 100, 200)

http_requests = Counter(
    "panel_http_requests",
    "Requests answered, by view name, method and status.",
    ["view", "method", "status"],
)
http_request_duration = Histogram(
    "panel_http_request_duration_seconds",
    "Time from the request to the response object (a streamed body is not included).",
    ["view", "method", "status"],
    buckets=LATENCY_BUCKETS,
)
# "livesum": the processes alive now; gunicorn.conf.py's child_exit removes
# the file of a worker that died, so a killed one's requests do not linger.
http_requests_in_progress = Gauge(
    "panel_http_requests_in_progress",
    "Requests being answered now.",
    multiprocess_mode="livesum",
)
http_request_queries = Histogram(
    "panel_http_request_db_queries",
    "Database queries a request ran before its response was returned.",
    ["view"],
    buckets=QUERY_BUCKETS,
)
clients_created = Counter(
    "panel_clients_created",
    "Clients created (committed), by where: the Add client page, the API or other (admin, shell).",
    ["channel"],
)
notifications = Counter(
    "panel_notifications",
    "Notification deliveries: queued, sent, failed (given up) and retried (a failed "
    "attempt with another one scheduled).",
    ["outcome"],
)
directory_calls = Counter(
    "panel_directory_calls",
    "Requests to the organization directory (answers from the cache are not counted).",
    ["method"],
)
directory_failures = Counter(
    "panel_directory_failures",
    "Directory requests that gave nothing, by cause.",
    ["method", "cause"],
)
sign_in_failures = Counter("panel_sign_in_failures", "Failed sign-ins (wrong email or password).")
sign_in_lockouts = Counter(
    "panel_sign_in_lockouts", "Sign-ins refused because the account or the address is locked."
)
task_runs = Counter(
    "panel_task_runs", "Task runs finished by this worker, by task and status.", ["task", "status"]
)
task_run_duration = Histogram(
    "panel_task_run_duration_seconds",
    "Time a task run took, by task.",
    ["task"],
    buckets=LATENCY_BUCKETS,
)


def directory_called(*, method: str) -> None:
    """One request sent to the directory."""
    directory_calls.labels(method=method).inc()


def directory_failed(*, method: str, cause: str) -> None:
    """A directory request that gave nothing; ``cause`` is one of
    ``clients.directory.FAILURE_CAUSES``."""
    directory_failures.labels(method=method, cause=cause).inc()
