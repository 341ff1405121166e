"""Logging: one line per request and per task run, as JSON or as text.

``LOG_FORMAT=json`` writes every log line (the panel's, Django's, the task
worker's) as one JSON object; ``text`` (the default, for ``make run``) writes
the same fields readably. structlog renders both, django-structlog writes the
request lines (``RequestLogMiddleware`` below) and the task lines
(``operations.receivers``).

A request's id comes from the ``X-Request-ID`` header when it is a sane token
(a proxy or the load balancer made it), else it is made here; it is returned
in the response's ``X-Request-ID`` and travels with every task the request
queues (``operations.tasks_backend``), so that the worker's lines of the
email sent for a new client carry the id of the request that created it.
"""

import re
import time
from typing import Any

import structlog
from django.http import HttpRequest, HttpResponse
from django_structlog import signals
from django_structlog.middlewares import RequestMiddleware

REQUEST_ID_HEADER = "X-Request-ID"
# What we accept from upstream: a UUID, a hex or base64-ish token. Anything
# else (too long, spaces, control characters) is replaced by our own.
_SANE_REQUEST_ID = re.compile(r"[A-Za-z0-9._:+/=-]{1,128}")

_SHARED_PROCESSORS: list[Any] = [
    structlog.contextvars.merge_contextvars,
    structlog.stdlib.add_logger_name,
    structlog.stdlib.add_log_level,
    structlog.processors.TimeStamper(fmt="iso", utc=True),
    structlog.stdlib.ExtraAdder(),
]


def logging_config(*, log_format: str, level: str) -> dict[str, Any]:
    """The ``LOGGING`` dictionary: every record to stderr, rendered by
    structlog as JSON (``json``) or key=value text (``text``)."""
    if log_format not in ("json", "text"):
        raise ValueError(f"LOG_FORMAT must be json or text, not {log_format!r}")
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {
            "structlog": {
                "()": structlog.stdlib.ProcessorFormatter,
                "processors": [
                    structlog.stdlib.ProcessorFormatter.remove_processors_meta,
                    # JSON carries a traceback as a string field; the console
                    # renderer prints it below the line.
                    *([structlog.processors.format_exc_info] if log_format == "json" else []),
                    structlog.processors.JSONRenderer(ensure_ascii=False)
                    if log_format == "json"
                    else structlog.dev.ConsoleRenderer(colors=False),
                ],
                "foreign_pre_chain": _SHARED_PROCESSORS,
            },
        },
        "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "structlog"}},
        "root": {"handlers": ["console"], "level": level},
        "loggers": {
            # Replaces Django's default handlers for "django" (which print
            # in DEBUG besides ours).
            "django": {"handlers": ["console"], "level": level, "propagate": False},
            # django-structlog's "request_started" is at DEBUG (one line per
            # request is enough: "request_finished" has everything).
            "django_structlog": {"level": level},
            # runserver's own access line duplicates ours.
            "django.server": {"handlers": ["console"], "level": "WARNING", "propagate": False},
        },
    }


def configure_structlog() -> None:
    """structlog's own loggers hand their events to the standard logging,
    whose formatter (above) renders them."""
    structlog.configure(
        processors=[
            structlog.stdlib.filter_by_level,
            *_SHARED_PROCESSORS,
            structlog.stdlib.PositionalArgumentsFormatter(),
            structlog.processors.StackInfoRenderer(),
            structlog.processors.UnicodeDecoder(),
            structlog.stdlib.ProcessorFormatter.wrap_for_formatter,
        ],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=True,
    )


def current_context() -> dict[str, Any]:
    """What a task queued now should carry into its log lines."""
    context = structlog.contextvars.get_contextvars()
    return {key: context[key] for key in ("request_id", "task_id") if key in context}


class RequestLogMiddleware(RequestMiddleware):
    """django-structlog's request middleware, logging the path without its
    query string (search terms, emails and phones are personal data; the
    query's keys are kept) and taking a sane upstream ``X-Request-ID``."""

    def prepare(self, request: HttpRequest) -> None:
        upstream = request.META.get("HTTP_X_REQUEST_ID", "")
        if upstream and not _SANE_REQUEST_ID.fullmatch(upstream):
            del request.META["HTTP_X_REQUEST_ID"]
        request._log_started = time.perf_counter()  # type: ignore[attr-defined]
        super().prepare(request)

    @staticmethod
    def format_request(request: HttpRequest) -> str:
        return f"{request.method} {request.path}"


def _request_fields(request: HttpRequest, response: HttpResponse | None) -> dict[str, Any]:
    match = getattr(request, "resolver_match", None)
    manager = getattr(request, "manager", None)
    started = getattr(request, "_log_started", None)
    fields: dict[str, Any] = {
        "method": request.method,
        "path": request.path,
        "view": match.view_name if match else None,
        "reseller_id": manager.reseller_id if manager is not None else None,
    }
    if request.GET:
        fields["query_keys"] = sorted(request.GET.keys())
    if started is not None:
        fields["duration_ms"] = round((time.perf_counter() - started) * 1000, 1)
    if response is not None:
        fields["status"] = response.status_code
    return fields


def _set_request_id(response: HttpResponse) -> None:
    request_id = structlog.contextvars.get_contextvars().get("request_id")
    if request_id:
        response[REQUEST_ID_HEADER] = request_id


def _on_request_finished(sender, request, logger, response, log_kwargs, **kwargs) -> None:
    log_kwargs.update(_request_fields(request, response))
    _set_request_id(response)


def _on_request_failed(sender, request, logger, exception, log_kwargs, **kwargs) -> None:
    log_kwargs.update(_request_fields(request, None))
    log_kwargs["status"] = 500


def _on_failure_response(sender, request, response, logger, exception, **kwargs) -> None:
    _set_request_id(response)


signals.bind_extra_request_finished_metadata.connect(_on_request_finished)
signals.bind_extra_request_failed_metadata.connect(_on_request_failed)
signals.update_failure_response.connect(_on_failure_response)
