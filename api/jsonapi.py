"""JSON:API on top of Django REST framework: the media type, the body size
cap, strict JSON, and every failure as JSON:API error objects.

Each error has a status, a stable ``code`` (what a program checks), a
``title`` per status, a ``detail`` in the request's language (the panel's
catalogue; Accept-Language picks it through LocaleMiddleware) and, where it
points somewhere, a ``source``: ``pointer`` into the body, ``parameter`` of
the query, or ``header``."""

import json
import logging
import math
from dataclasses import dataclass, field

from django.conf import settings
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.http import Http404
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from rest_framework import exceptions
from rest_framework.negotiation import BaseContentNegotiation
from rest_framework.parsers import BaseParser
from rest_framework.renderers import JSONRenderer
from rest_framework.response import Response

from operator_panel.database import DATABASE_UNAVAILABLE, RETRY_AFTER_SECONDS

logger = logging.getLogger(__name__)

MEDIA_TYPE = "application/vnd.api+json"

TITLES = {
    400: gettext_lazy("Bad request"),
    401: gettext_lazy("Not authenticated"),
    403: gettext_lazy("Forbidden"),
    404: gettext_lazy("Not found"),
    405: gettext_lazy("Method not allowed"),
    409: gettext_lazy("Conflict"),
    413: gettext_lazy("Request body too large"),
    415: gettext_lazy("Unsupported media type"),
    422: gettext_lazy("Invalid data"),
    429: gettext_lazy("Too many requests"),
    503: gettext_lazy("Service unavailable"),
}


@dataclass
class ErrorObject:
    status: int
    code: str
    detail: str
    pointer: str | None = None
    parameter: str | None = None
    header: str | None = None
    meta: dict | None = None

    def as_json(self) -> dict:
        error: dict = {
            "status": str(self.status),
            "code": self.code,
            "title": str(TITLES.get(self.status, TITLES[400])),
            "detail": str(self.detail),
        }
        source = {}
        if self.pointer is not None:
            source["pointer"] = self.pointer
        if self.parameter is not None:
            source["parameter"] = self.parameter
        if self.header is not None:
            source["header"] = self.header
        if source:
            error["source"] = source
        if self.meta:
            error["meta"] = self.meta
        return error


@dataclass
class ApiError(Exception):
    """One or more errors answered together; the status is the first one's
    unless given."""

    errors: list[ErrorObject]
    status: int | None = None
    headers: dict[str, str] = field(default_factory=dict)

    @classmethod
    def one(cls, status: int, code: str, detail: str, **source) -> "ApiError":
        return cls([ErrorObject(status=status, code=code, detail=detail, **source)])

    def response(self) -> Response:
        status = self.status or self.errors[0].status
        body = {"errors": [error.as_json() for error in self.errors]}
        response = Response(body, status=status)
        for name, value in self.headers.items():
            response[name] = value
        return response


def _reject_constant(name: str) -> float:
    raise ValueError(f"{name} is not JSON")


class JsonApiParser(BaseParser):
    """``application/vnd.api+json`` bodies: at most API_MAX_BODY_BYTES, UTF-8,
    strict JSON (no NaN or Infinity), an object at the top."""

    media_type = MEDIA_TYPE

    def parse(self, stream, media_type=None, parser_context=None):
        limit = settings.API_MAX_BODY_BYTES
        request = (parser_context or {}).get("request")
        length = request.META.get("CONTENT_LENGTH") if request is not None else None
        try:
            declared = int(length) if length else 0
        except ValueError:
            declared = 0
        if declared > limit:
            raise body_too_large()
        raw = stream.read(limit + 1) if stream is not None else b""
        if len(raw) > limit:
            raise body_too_large()
        try:
            document = json.loads(raw.decode("utf-8"), parse_constant=_reject_constant)
            # "\ud800" is valid JSON but no text a database can store.
            json.dumps(document, ensure_ascii=False).encode("utf-8")
            return document
        except (ValueError, UnicodeError, RecursionError) as error:
            raise ApiError.one(
                400,
                "malformed_json",
                _("The request body is not valid JSON: %(error)s") % {"error": str(error)[:200]},
                pointer="",
            ) from error


class JsonParser(JsonApiParser):
    """Plain ``application/json`` is read the same way: many HTTP clients
    send it by default."""

    media_type = "application/json"


def body_too_large() -> ApiError:
    return ApiError.one(
        413,
        "body_too_large",
        _("The request body is larger than %(limit)s bytes.")
        % {"limit": settings.API_MAX_BODY_BYTES},
    )


class JsonApiRenderer(JSONRenderer):
    media_type = MEDIA_TYPE
    format = "jsonapi"
    charset = None
    ensure_ascii = False


class JsonApiNegotiation(BaseContentNegotiation):
    """Every answer is JSON:API whatever Accept says: an integration that
    sends ``Accept: */*`` or ``application/json`` still gets its data, not 406."""

    def select_parser(self, request, parsers):
        for parser in parsers:
            if request.content_type.split(";")[0].strip().lower() == parser.media_type:
                return parser
        return None

    def select_renderer(self, request, renderers, format_suffix=None):
        return renderers[0], renderers[0].media_type


def exception_handler(exc, context) -> Response | None:
    """Every failure of an API view as JSON:API errors; nothing becomes a 500
    that a client could have caused."""
    if isinstance(exc, ApiError):
        return exc.response()
    if isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied()
    if isinstance(exc, exceptions.NotAuthenticated):
        error = ApiError.one(
            401,
            "not_authenticated",
            _("Send your API token in the X-Api-Token header."),
            header="X-Api-Token",
        )
    elif isinstance(exc, exceptions.AuthenticationFailed):
        error = ApiError.one(
            401,
            "invalid_token",
            _("The API token is unknown, revoked or expired, or its manager is inactive."),
            header="X-Api-Token",
        )
    elif isinstance(exc, exceptions.Throttled):
        wait = max(1, math.ceil(exc.wait or 1))
        error = ApiError.one(
            429,
            "rate_limited",
            _("Too many requests: try again in %(seconds)s s.") % {"seconds": wait},
        )
        error.headers["Retry-After"] = str(wait)
    elif isinstance(exc, exceptions.PermissionDenied):
        error = ApiError.one(403, "forbidden", _("Your role does not allow this."))
    elif isinstance(exc, exceptions.NotFound):
        error = ApiError.one(404, "not_found", _("Nothing is found at this address."))
    elif isinstance(exc, exceptions.MethodNotAllowed):
        error = ApiError.one(
            405,
            "method_not_allowed",
            _("The method %(method)s is not allowed here.") % {"method": exc.args[0]},
        )
    elif isinstance(exc, exceptions.UnsupportedMediaType):
        error = ApiError.one(
            415,
            "unsupported_media_type",
            _("Send the body as %(media_type)s.") % {"media_type": MEDIA_TYPE},
            header="Content-Type",
        )
    elif isinstance(exc, exceptions.ParseError):
        error = ApiError.one(400, "malformed_json", _("The request body is not valid JSON."))
    elif isinstance(exc, exceptions.APIException):
        error = ApiError.one(exc.status_code, exc.default_code, str(exc.detail))
    elif isinstance(exc, DATABASE_UNAVAILABLE):
        # PostgreSQL restarting or failing over: the page's 503, as JSON:API.
        # Nothing was committed (the create's transaction did not end), so
        # the client sends the same request again, with its Idempotency-Key.
        logger.warning("API request without the database: %r", exc)
        error = ApiError.one(
            503,
            "service_unavailable",
            _("The service is temporarily unavailable; try again in a few seconds."),
        )
        error.headers["Retry-After"] = str(RETRY_AFTER_SECONDS)
    else:
        return None
    response = error.response()
    if response.status_code == 401:
        response["WWW-Authenticate"] = 'X-Api-Token realm="api"'
    return response
