"""How many clients the list's search and filters match: an exact count up
to a cap, PostgreSQL's estimate past it, never an unbounded COUNT."""

import hashlib
import json
from dataclasses import dataclass

from django.conf import settings
from django.core.cache import cache
from django.db import connections
from django.db.models import QuerySet

from clients.selectors.list_search import _search_condition
from clients.selectors.listing import ClientListFilters, _filtered
from users.models import Manager

# The list counts its matches exactly up to this many; past it, it says
# "about N" with PostgreSQL's estimate (or "more than N" where it has none).
CLIENT_LIST_COUNT_CAP = 10_000
# A count PostgreSQL expects to cost more than this (in its planner's units,
# about a page read each) is not run: counting 10,001 of the matches of a
# common name fragment reads 400,000 rows (100-300 ms here), the page itself
# a few hundred.
CLIENT_LIST_COUNT_COST_LIMIT = 5_000


@dataclass(frozen=True, kw_only=True)
class ClientTotal:
    """How many clients match the list's search and filters: ``number``
    exactly, or ``about`` it (PostgreSQL's estimate), or ``more_than`` it
    (a count stopped at the cap, where there is no estimate)."""

    number: int
    about: bool = False
    more_than: bool = False


def _plan(queryset: QuerySet) -> tuple[int, float]:
    """PostgreSQL's estimate of the rows a query returns and of its cost
    (EXPLAIN without ANALYZE: the query is planned, not run)."""
    plan = json.loads(queryset.explain(format="json"))[0]["Plan"]
    return int(plan["Plan Rows"]), float(plan["Total Cost"])


def _estimate_key(*, manager: Manager, filters: ClientListFilters, alias: str) -> str:
    """The cache key of an estimate: the manager (their reach) and the
    filters, each object by its ID."""
    values = [
        filters.search,
        *filters.statuses,
        *(
            item.pk if item is not None else None
            for item in (filters.client_type, filters.service_rule, filters.manager)
        ),
        filters.reseller.pk if filters.reseller is not None else None,
        str(filters.created_from),
        str(filters.created_to),
    ]
    digest = hashlib.blake2b(json.dumps(values).encode(), digest_size=16).hexdigest()
    return f"client-list-estimate:{alias}:{manager.pk}:{digest}"


def client_list_total(*, manager: Manager, filters: ClientListFilters | None = None) -> ClientTotal:
    """The number of clients the list's search and filters match, without an
    unbounded COUNT: PostgreSQL's estimate first (one EXPLAIN); when that is
    at most CLIENT_LIST_COUNT_CAP and the count looks cheap, one count
    stopped at the cap gives the exact number.
    Elsewhere (SQLite) the bounded count alone.

    An estimate ("about 840,000") is kept CLIENT_LIST_ESTIMATE_SECONDS in
    the process's cache: the operator paging through the same filters is not
    planned for again on every page, and an estimate shown to two figures does
    not move in a minute. Exact numbers are never kept: a client created a
    moment ago counts at once."""
    filters = filters or ClientListFilters()
    clients = _filtered(manager=manager, filters=filters).order_by()
    if filters.search:
        condition = _search_condition(filters.search)
        if condition is None:
            return ClientTotal(number=0)
        clients = clients.filter(condition)
    if connections[clients.db].vendor == "postgresql":
        key = _estimate_key(manager=manager, filters=filters, alias=clients.db)
        if settings.CLIENT_LIST_ESTIMATE_SECONDS and (kept := cache.get(key)) is not None:
            return ClientTotal(number=kept, about=True)
        estimate, cost = _plan(clients)
        if estimate > CLIENT_LIST_COUNT_CAP or cost > CLIENT_LIST_COUNT_COST_LIMIT:
            total = ClientTotal(number=max(estimate, 1), about=True)
            if settings.CLIENT_LIST_ESTIMATE_SECONDS:
                cache.set(key, total.number, settings.CLIENT_LIST_ESTIMATE_SECONDS)
            return total
    counted = clients[: CLIENT_LIST_COUNT_CAP + 1].count()
    if counted > CLIENT_LIST_COUNT_CAP:
        return ClientTotal(number=CLIENT_LIST_COUNT_CAP, more_than=True)
    return ClientTotal(number=counted)
