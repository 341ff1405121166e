"""Reads from the streaming replica, where a stale answer cannot hurt.

With ``DATABASE_REPLICA_URL`` set, ``DATABASES`` has a ``replica`` alias and
this router sends reads there only while a request of a read-only page runs:
a GET or HEAD of one of ``DATABASE_REPLICA_VIEWS`` (the client list and its
search, the CSV export, the API's list). Everything else reads from the
primary: every write and every read after a write in the same request (an
event logged), every read inside a transaction, the task workers and
management commands, and the requests of a browser that posted within the
last ``DATABASE_REPLICA_PIN_SECONDS`` (a short-lived cookie set on the answer
to any POST), so that the page shown after "Create" redirects never misses
the client it just created, however far the replica lags.

``DATABASE_PRIMARY_MODELS`` are the request's own bookkeeping: sessions and
the API's tokens, request counters and idempotency keys. They are always read
from the primary (a token made a moment ago must work at once), and writing
them (the API counts every request before it lists) is not a write of the
data the page reads, so it does not move the request's other reads.

The state is a context variable, set by ``ReplicaRoutingMiddleware`` for the
request (and again while a streamed answer, the export, is being sent).
"""

import contextlib
from collections.abc import Callable, Iterator
from contextvars import ContextVar
from dataclasses import dataclass

from django.conf import settings
from django.db import connections
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse

REPLICA = "replica"
PRIMARY = "default"
PIN_COOKIE = "panel_primary"


@dataclass
class _RouteState:
    use_replica: bool = False
    wrote: bool = False


_state: ContextVar[_RouteState | None] = ContextVar("panel_db_route", default=None)


def replica_configured() -> bool:
    return REPLICA in settings.DATABASES


@contextlib.contextmanager
def reading_from_replica(enabled: bool = True) -> Iterator[_RouteState]:
    """Let reads go to the replica (while no write happened) inside the block."""
    state = _RouteState(use_replica=enabled and replica_configured())
    token = _state.set(state)
    try:
        yield state
    finally:
        _state.reset(token)


def current_read_alias() -> str:
    """Where a read would go now; for code that opens a cursor itself."""
    state = _state.get()
    if state is None or not state.use_replica or state.wrote:
        return PRIMARY
    if connections[PRIMARY].in_atomic_block:
        return PRIMARY
    return REPLICA


class ReplicaRouter:
    """Database router: see the module's doc."""

    def db_for_read(self, model, **hints) -> str:
        if model._meta.label_lower in settings.DATABASE_PRIMARY_MODELS:
            return PRIMARY
        return current_read_alias()

    def db_for_write(self, model, **hints) -> str:
        state = _state.get()
        if state is not None and model._meta.label_lower not in settings.DATABASE_PRIMARY_MODELS:
            state.wrote = True
        return PRIMARY

    def allow_relation(self, obj1, obj2, **hints) -> bool:
        # The replica is a copy of the primary: objects of both are one database.
        return True

    def allow_migrate(self, db, app_label, model_name=None, **hints) -> bool:
        return db == PRIMARY


def _streamed(content: Iterator[bytes], state: _RouteState) -> Iterator[bytes]:
    # The export's rows are read while the body is sent, after the middleware
    # has returned: read them under the request's routing again.
    token = _state.set(state)
    try:
        yield from content
    finally:
        _state.reset(token)


class ReplicaRoutingMiddleware:
    """Route the reads of the read-only pages to the replica, and pin a
    browser that just posted to the primary (see the module's doc)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if not replica_configured():
            return self.get_response(request)
        state = _RouteState()
        token = _state.set(state)
        try:
            response = self.get_response(request)
        finally:
            _state.reset(token)
        if request.method not in ("GET", "HEAD", "OPTIONS", "TRACE"):
            response.set_cookie(
                PIN_COOKIE,
                "1",
                max_age=settings.DATABASE_REPLICA_PIN_SECONDS,
                secure=settings.SESSION_COOKIE_SECURE,
                httponly=True,
                samesite="Lax",
            )
        if state.use_replica and isinstance(response, StreamingHttpResponse):
            response.streaming_content = _streamed(response.streaming_content, state)
        return response

    def process_view(self, request: HttpRequest, view_func, view_args, view_kwargs) -> None:
        state = _state.get()
        match = request.resolver_match
        if (
            state is not None
            and request.method in ("GET", "HEAD")
            and PIN_COOKIE not in request.COOKIES
            and match is not None
            and match.view_name in settings.DATABASE_REPLICA_VIEWS
        ):
            state.use_replica = True
