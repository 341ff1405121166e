"""Request metrics: count, latency and database queries per view and status."""

import contextlib
import time
from collections.abc import Callable
from contextvars import ContextVar

from django.db import connections
from django.http import HttpRequest, HttpResponse

from operations import metrics

# The view answering the current request (for labels such as a client's
# creation channel); None outside a request.
_view_name: ContextVar[str | None] = ContextVar("panel_view_name", default=None)

UNRESOLVED = "<unresolved>"


def current_view_name() -> str | None:
    return _view_name.get()


class _QueryCounter:
    def __init__(self) -> None:
        self.count = 0

    def __call__(self, execute, sql, params, many, context):
        self.count += 1
        return execute(sql, params, many, context)


class RequestMetricsMiddleware:
    """Observe every request that reaches the panel: requests and latency by
    view name, method and status (a URL that matched no view is
    ``<unresolved>``, so that scanners cannot invent label values), and the
    number of database queries it ran on any database. Probes are answered
    before this middleware and are not counted. A streamed body (the CSV
    export) is sent after the response object is returned: its time and
    queries are not in these figures."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        counter = _QueryCounter()
        token = _view_name.set(None)
        started = time.perf_counter()
        try:
            with contextlib.ExitStack() as stack:
                stack.enter_context(metrics.http_requests_in_progress.track_inprogress())
                for connection in connections.all():
                    stack.enter_context(connection.execute_wrapper(counter))
                response = self.get_response(request)
        finally:
            _view_name.reset(token)
        duration = time.perf_counter() - started
        match = getattr(request, "resolver_match", None)
        view = match.view_name if match is not None and match.view_name else UNRESOLVED
        method = request.method if request.method in _METHODS else "other"
        status = str(response.status_code)
        metrics.http_requests.labels(view=view, method=method, status=status).inc()
        metrics.http_request_duration.labels(view=view, method=method, status=status).observe(
            duration
        )
        metrics.http_request_queries.labels(view=view).observe(counter.count)
        return response

    def process_view(self, request: HttpRequest, view_func, view_args, view_kwargs) -> None:
        match = request.resolver_match
        _view_name.set(match.view_name if match is not None else None)


_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
