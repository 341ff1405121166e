"""The list's query parameters (docs/api.md): ``page[…]`` and ``filter[…]``
read from the query string and checked, each problem an error object with
the parameter's name."""

import datetime as dt

from django.utils import timezone
from django.utils.translation import gettext as _
from rest_framework.request import Request

from api.jsonapi import ApiError, ErrorObject
from api.selectors import AccountFilters
from clients.models import ClientStatus

PAGE_SIZE_DEFAULT = 50
PAGE_SIZE_MAX = 500
# page[number] is an OFFSET: beyond this page the answer points to the cursor.
PAGE_NUMBER_MAX = 100
FILTER_EMAILS_MAX = 50
PARAMETER_MAX_LENGTH = 1000
BIGINT_MAX = 2**63 - 1

LIST_PARAMETERS = frozenset(
    {
        "page[size]",
        "page[number]",
        "page[after]",
        "filter[email]",
        "filter[user_email]",
        "filter[inn]",
        "filter[created_at][gt]",
        "filter[created_at][lt]",
        "filter[status]",
    }
)


def parameter_error(name: str, code: str, detail: str) -> ErrorObject:
    return ErrorObject(status=400, code=code, detail=detail, parameter=name)


def query_parameters(request: Request, names: frozenset[str]) -> dict[str, str]:
    """The query's parameters, each once; unknown ones, repeated ones and
    values no column could hold are refused together."""
    errors = []
    values = {}
    for name in request.query_params:
        given = request.query_params.getlist(name)
        if name not in names:
            errors.append(
                parameter_error(
                    name,
                    "unknown_parameter",
                    _("%(name)s is not a parameter of this request.") % {"name": name[:100]},
                )
            )
        elif len(given) > 1:
            errors.append(
                parameter_error(
                    name, "repeated_parameter", _("Give %(name)s once.") % {"name": name}
                )
            )
        elif "\x00" in given[0] or len(given[0]) > PARAMETER_MAX_LENGTH:
            errors.append(
                parameter_error(
                    name,
                    "invalid_parameter",
                    _("%(name)s has a NUL character or is longer than %(limit)s characters.")
                    % {"name": name, "limit": PARAMETER_MAX_LENGTH},
                )
            )
        else:
            values[name] = given[0]
    if errors:
        raise ApiError(errors)
    return values


def integer_parameter(values: dict[str, str], name: str, low: int, high: int) -> int | None:
    raw = values.get(name)
    if raw is None:
        return None
    number = path_id(raw.strip())
    if number is None or not low <= number <= high:
        raise ApiError(
            [
                parameter_error(
                    name,
                    "invalid_parameter",
                    _("%(name)s must be a whole number from %(low)s to %(high)s.")
                    % {"name": name, "low": low, "high": high},
                )
            ]
        )
    return number


def moment_parameter(values: dict[str, str], name: str, *, after: bool) -> dt.datetime | None:
    """An RFC 3339 date-time, or a YYYY-MM-DD day of the panel's time zone:
    "after" a day means from the next day's start, "before" it, before its
    start."""
    raw = values.get(name, "").strip()
    if not raw:
        return None
    try:
        if len(raw) == 10:
            day = dt.date.fromisoformat(raw)
            if after:
                day += dt.timedelta(days=1)
            start = timezone.make_aware(dt.datetime.combine(day, dt.time.min))
            # "After D" is from the next day's first microsecond on.
            return start - dt.timedelta(microseconds=1) if after else start
        moment = dt.datetime.fromisoformat(raw)
        if moment.tzinfo is None or "T" not in raw.upper():
            raise ValueError(raw)
        return moment.astimezone(dt.UTC)
    except (ValueError, OverflowError):
        raise ApiError(
            [
                parameter_error(
                    name,
                    "invalid_date",
                    _(
                        "%(name)s must be an RFC 3339 date and time with its offset "
                        "(2026-05-01T12:00:00+03:00) or a date (2026-05-01)."
                    )
                    % {"name": name},
                )
            ]
        ) from None


def account_filters(values: dict[str, str]) -> AccountFilters:
    errors = []
    emails = tuple(
        email.strip() for email in values.get("filter[email]", "").split(",") if email.strip()
    )
    if len(emails) > FILTER_EMAILS_MAX:
        errors.append(
            parameter_error(
                "filter[email]",
                "too_many_values",
                _("Give at most %(count)s emails.") % {"count": FILTER_EMAILS_MAX},
            )
        )
    statuses = tuple(
        status.strip() for status in values.get("filter[status]", "").split(",") if status.strip()
    )
    unknown = [status for status in statuses if status not in ClientStatus.values]
    if unknown:
        errors.append(
            parameter_error(
                "filter[status]",
                "invalid_status",
                _("Unknown status %(status)s; the statuses are %(statuses)s.")
                % {"status": unknown[0][:50], "statuses": ", ".join(ClientStatus.values)},
            )
        )
    if errors:
        raise ApiError(errors)
    return AccountFilters(
        emails=emails,
        user_email=values.get("filter[user_email]", "").strip(),
        inn=values.get("filter[inn]", "").strip(),
        created_after=moment_parameter(values, "filter[created_at][gt]", after=True),
        created_before=moment_parameter(values, "filter[created_at][lt]", after=False),
        statuses=statuses,
    )


def path_id(value: str) -> int | None:
    """A path's ID as a positive bigint; anything else finds nothing."""
    if not value.isascii() or not value.isdigit():
        return None
    number = int(value)
    return number if 0 < number <= BIGINT_MAX else None
