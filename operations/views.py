"""The answer to an uncaught error (``handler500``)."""

import logging
import sys

import structlog
from django.http import HttpRequest, HttpResponse
from django.template.loader import render_to_string
from django.views import defaults

from operator_panel.database import DATABASE_UNAVAILABLE, RETRY_AFTER_SECONDS

logger = logging.getLogger(__name__)


def server_error(request: HttpRequest) -> HttpResponse:
    """Django's 500 page, except when the error is the database being out
    of reach: then 503 with ``Retry-After``, so that the balancer and the
    browser come back, and a page that says to try again. The error itself
    is logged by Django (``django.request``) either way."""
    error = sys.exc_info()[1]
    if not isinstance(error, DATABASE_UNAVAILABLE):
        return defaults.server_error(request)
    # Not render(): the context processors would query the database again.
    html = render_to_string(
        "operations/unavailable.html",
        {"request_id": structlog.contextvars.get_contextvars().get("request_id")},
    )
    response = HttpResponse(html, status=503)
    response["Retry-After"] = str(RETRY_AFTER_SECONDS)
    response["Cache-Control"] = "no-store"
    return response
