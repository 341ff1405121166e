"""The client list: its filters, search, sorts, keyset pages, rows, totals
and the filter selects (docs/scale.md)."""

import base64
import datetime as dt
import json
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.db import connection
from django.db.models import (
    CharField,
    DateTimeField,
    F,
    Field,
    FilteredRelation,
    Model,
    OrderBy,
    OuterRef,
    Prefetch,
    Q,
    QuerySet,
    Subquery,
)
from django.db.models.fields.tuple_lookups import Tuple, TupleGreaterThan, TupleLessThan
from django.utils import timezone

from clients.models import AccessLevel, Client, ClientAccess, ClientStatus
from clients.selectors.list_choices import ClientListChoices, client_list_choices
from clients.selectors.list_search import _search_condition
from clients.selectors.scope import client_queryset_for_manager
from rules.models import ClientType, ServiceRule
from users.models import Manager, Reseller, User, full_name


@dataclass(frozen=True, kw_only=True)
class ClientListFilters:
    """What the client list is narrowed to; an empty value does not narrow."""

    search: str = ""
    statuses: tuple[str, ...] = ()
    client_type: ClientType | None = None
    service_rule: ServiceRule | None = None
    manager: Manager | None = None
    reseller: Reseller | None = None
    created_from: dt.date | None = None
    created_to: dt.date | None = None


# Sort keys of the client list (the `sort` URL parameter, "-" for descending)
# and the columns each sorts by; the ID is always the last tie-breaker.
CLIENT_LIST_SORTS: dict[str, tuple[str, ...]] = {
    "id": (),
    "name": ("name",),
    "status": ("status",),
    "rule": ("service_rule__name",),
    "type": ("client_type__name",),
    "manager": ("manager__user__last_name", "manager__user__first_name"),
    "country": ("country",),
    "city": ("city",),
    "phone": ("phone",),
    "owner": ("owner_last_name", "owner_first_name"),
    "owner_email": ("owner_email",),
    "created": ("created_at",),
    "postpay": ("postpay_permission",),
    "reseller": ("reseller__name",),
}
CLIENT_LIST_DEFAULT_SORT = "-created"
# Columns that may be empty (no manager, no owner): they go last both ways.
# The others are NOT NULL and are sorted without NULLS LAST, which PostgreSQL
# would otherwise refuse to serve from a plain B-tree index.
_NULLABLE_SORT_COLUMNS = frozenset(
    {
        "manager__user__last_name",
        "manager__user__first_name",
        "owner_last_name",
        "owner_first_name",
        "owner_email",
    }
)


def _owner_field(field: str) -> Subquery:
    owner = ClientAccess.objects.filter(client=OuterRef("pk"), level=AccessLevel.OWNER)
    return Subquery(owner.values(f"user__{field}")[:1])


def _day_start(day: dt.date) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(day, dt.time.min))


def _filtered(*, manager: Manager, filters: ClientListFilters) -> QuerySet[Client]:
    """The manager's clients narrowed by everything but the search."""
    clients = client_queryset_for_manager(manager=manager)
    if filters.statuses:
        clients = clients.filter(status__in=filters.statuses)
    else:
        clients = clients.exclude(status=ClientStatus.DELETED)
    if filters.client_type is not None:
        clients = clients.filter(client_type=filters.client_type)
    if filters.service_rule is not None:
        clients = clients.filter(service_rule=filters.service_rule)
    if filters.manager is not None:
        clients = clients.filter(manager=filters.manager)
    if filters.reseller is not None:
        clients = clients.filter(reseller=filters.reseller)
    # Whole days of the panel's time zone.
    if filters.created_from is not None:
        clients = clients.filter(created_at__gte=_day_start(filters.created_from))
    if filters.created_to is not None:
        clients = clients.filter(
            created_at__lt=_day_start(filters.created_to + dt.timedelta(days=1))
        )
    return clients


@dataclass(frozen=True)
class _Sort:
    """A sort key resolved to its columns: annotated as sort_0, sort_1, …
    then the ID, all in one direction."""

    columns: tuple[str, ...]
    descending: bool

    @classmethod
    def parse(cls, sort: str) -> "_Sort":
        key = sort.removeprefix("-")
        if key not in CLIENT_LIST_SORTS:
            key, sort = CLIENT_LIST_DEFAULT_SORT.removeprefix("-"), CLIENT_LIST_DEFAULT_SORT
        return cls(columns=CLIENT_LIST_SORTS[key], descending=sort.startswith("-"))

    @property
    def names(self) -> list[str]:
        return [f"sort_{position}" for position in range(len(self.columns))] + ["pk"]

    @property
    def nullable(self) -> list[bool]:
        return [column in _NULLABLE_SORT_COLUMNS for column in self.columns] + [False]

    def annotate(self, clients: QuerySet[Client]) -> QuerySet[Client]:
        annotations = {}
        for name, column in zip(self.names, self.columns, strict=False):
            if column.startswith("owner_"):
                annotations[name] = _owner_field(column.removeprefix("owner_"))
            else:
                annotations[name] = F(column)
        return clients.annotate(**annotations)

    def ordering(self, *, reverse: bool = False) -> list[OrderBy]:
        """Forward: empty values last. Reverse (for "previous" and "last"
        pages): the exact mirror, so that a page read backwards matches."""
        descending = self.descending != reverse
        ordering = []
        for name, nullable in zip(self.names, self.nullable, strict=True):
            nulls = {"nulls_first": True} if reverse else {"nulls_last": True}
            expression = F(name)
            if not nullable:
                ordering.append(expression.desc() if descending else expression.asc())
            else:
                ordering.append(expression.desc(**nulls) if descending else expression.asc(**nulls))
        return ordering

    def after(self, values: list, *, reverse: bool = False) -> Q:
        """Rows that come after ``values`` (a row's sort columns and ID) in
        the forward order, or in the reverse order: the seek condition."""
        descending = self.descending != reverse
        if not any(self.nullable):
            # One row comparison: PostgreSQL seeks the B-tree straight to it.
            columns = Tuple(*(F(name) for name in self.names))
            lookup = TupleLessThan if descending else TupleGreaterThan
            return Q(lookup(columns, tuple(values)))
        condition = Q(pk__in=[])
        equal = Q()
        for name, nullable, value in zip(self.names, self.nullable, values, strict=True):
            if value is None:
                # Nothing comes after an empty value when they go last; when
                # they go first (reverse), every non-empty value does.
                if reverse:
                    condition |= equal & Q(**{f"{name}__isnull": False})
                equal &= Q(**{f"{name}__isnull": True})
                continue
            later = Q(**{f"{name}__lt" if descending else f"{name}__gt": value})
            if nullable and not reverse:
                later |= Q(**{f"{name}__isnull": True})
            condition |= equal & later
            equal &= Q(**{name: value})
        return condition


def client_list(
    *,
    manager: Manager,
    filters: ClientListFilters | None = None,
    sort: str = CLIENT_LIST_DEFAULT_SORT,
) -> QuerySet[Client]:
    """The client list, filtered and sorted, with what each row shows: every
    match, for the CSV export (the screen reads pages with client_list_page).

    Deleted clients are left out unless the filter asks for that status. An
    unknown sort key falls back to the default (newest first)."""
    filters = filters or ClientListFilters()
    clients = _filtered(manager=manager, filters=filters)
    if filters.search:
        clients = clients.filter(_search_condition(filters.search) or Q(pk__in=[]))
    order = _Sort.parse(sort)
    return _with_row_data(order.annotate(clients)).order_by(*order.ordering())


def _with_row_data(clients: QuerySet[Client]) -> QuerySet[Client]:
    owner_accesses = ClientAccess.objects.filter(level=AccessLevel.OWNER).select_related("user")
    return clients.select_related(
        "client_type", "service_rule", "manager__user", "reseller"
    ).prefetch_related(Prefetch("accesses", queryset=owner_accesses, to_attr="owner_accesses"))


@dataclass(frozen=True, slots=True, kw_only=True)
class ClientRow:
    """One line of the client list as plain values (the template tag
    client_list_rows words the status, postpay permission and country).

    The page reads its rows in one query of the columns shown, the owner
    joined: no model instances (fifty rows would build some three hundred,
    with their type, rule, manager, user and reseller) and no second query
    for the owners."""

    pk: int
    name: str
    status: str
    reseller: str
    service_rule: str
    service_rule_colour: str
    client_type: str
    manager: str  # "" when the client has none
    country: str
    city: str
    phone: str
    owner_name: str  # "" when the client has no owner
    owner_email: str
    created_at: dt.datetime
    postpay_permission: str
    # The row's sort values and ID, for the cursors of the next and previous pages.
    sort_values: tuple


class _RowLabels:
    """The names of the types, rules, managers and resellers a page's rows
    refer to, from the filter selects' rows (read for the page anyway), not
    from four more joins in the page's query: planning those joins costs
    PostgreSQL more than running the query. A row referring to something
    the selects do not offer has it read by ID."""

    def __init__(self, *, manager: Manager, choices: ClientListChoices) -> None:
        self.types = {item.pk: item.name for item in choices.client_types}
        self.rules = {item.pk: (item.name, item.colour) for item in choices.service_rules}
        self.managers = {item.pk: str(item) for item in choices.managers}
        resellers = choices.resellers if choices.resellers is not None else [manager.reseller]
        self.resellers = {item.pk: item.name for item in resellers}

    def complete(self, rows: list[tuple], positions: dict[str, int]) -> None:
        """Read what the rows refer to and the selects do not offer."""

        def missing(name: str, known: dict) -> set[int]:
            return {row[positions[name]] for row in rows} - known.keys() - {None}

        if ids := missing("client_type_id", self.types):
            self.types.update(ClientType.objects.filter(pk__in=ids).values_list("pk", "name"))
        if ids := missing("service_rule_id", self.rules):
            for pk, name, colour in ServiceRule.objects.filter(pk__in=ids).values_list(
                "pk", "name", "colour"
            ):
                self.rules[pk] = (name, colour)
        if ids := missing("manager_id", self.managers):
            for item in Manager.objects.filter(pk__in=ids).select_related("user"):
                self.managers[item.pk] = str(item)
        if ids := missing("reseller_id", self.resellers):
            self.resellers.update(Reseller.objects.filter(pk__in=ids).values_list("pk", "name"))


_ROW_COLUMNS = (
    "pk",
    "name",
    "status",
    "reseller_id",
    "service_rule_id",
    "client_type_id",
    "manager_id",
    "country",
    "city",
    "phone",
    "owner_access__user__last_name",
    "owner_access__user__first_name",
    "owner_access__user__middle_name",
    "owner_access__user__email",
    "created_at",
    "postpay_permission",
)
_ROW_POSITIONS = {name: position for position, name in enumerate(_ROW_COLUMNS)}


def _page_rows(
    clients: QuerySet[Client], *, order: _Sort, limit: int, labels: _RowLabels
) -> list[ClientRow]:
    """The first ``limit`` clients of the (ordered) queryset as list rows, in
    one query. A client has at most one owner (the clients_access_one_owner
    constraint), so joining the owner adds no row."""
    owner = FilteredRelation("accesses", condition=Q(accesses__level=AccessLevel.OWNER))
    values = list(
        clients.alias(owner_access=owner).values_list(*_ROW_COLUMNS, *order.names[:-1])[:limit]
    )
    labels.complete(values, _ROW_POSITIONS)
    rows = []
    for (
        pk,
        name,
        status,
        reseller_id,
        rule_id,
        type_id,
        manager_id,
        country,
        city,
        phone,
        owner_last,
        owner_first,
        owner_middle,
        owner_email,
        created_at,
        postpay,
        *sort_values,
    ) in values:
        rule, rule_colour = labels.rules[rule_id]
        rows.append(
            ClientRow(
                pk=pk,
                name=name,
                status=status,
                reseller=labels.resellers[reseller_id],
                service_rule=rule,
                service_rule_colour=rule_colour,
                client_type=labels.types[type_id],
                manager=labels.managers[manager_id] if manager_id is not None else "",
                country=country,
                city=city,
                phone=phone,
                owner_name=full_name(owner_last, owner_first, owner_middle),
                owner_email=owner_email or "",
                created_at=created_at,
                postpay_permission=postpay,
                sort_values=(*sort_values, pk),
            )
        )
    return rows


@dataclass(frozen=True, kw_only=True)
class ClientPage:
    """One page of the list read by seek (keyset) pagination: no COUNT and no
    OFFSET, so the last page costs what the first does."""

    clients: list[ClientRow]
    has_next: bool
    has_previous: bool
    next_cursor: str | None
    previous_cursor: str | None


def _encode_cursor(values: list) -> str:
    plain = [
        value.isoformat()
        if isinstance(value, dt.datetime)
        else value
        if value is None or isinstance(value, int | str)
        else str(value)
        for value in values
    ]
    text = json.dumps(plain, ensure_ascii=False, separators=(",", ":"))
    return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")


# The longest time a cursor may carry: an ISO datetime with microseconds and
# an offset has 32 characters.
_CURSOR_TIME_MAX_LENGTH = 40


def _sort_column_field(column: str) -> Field:
    """The model field a sort column reads: a path from the client through its
    relations (``service_rule__name``), or the owner's user field (``owner_email``)."""
    if column.startswith("owner_"):
        return User._meta.get_field(column.removeprefix("owner_"))
    model: type[Model] = Client
    *relations, name = column.split("__")
    for relation in relations:
        model = model._meta.get_field(relation).related_model
    return model._meta.get_field(name)


def _is_text_fit(value: object, *, max_length: int) -> bool:
    """A string PostgreSQL can compare with a column of ``max_length``: no
    NUL, no lone surrogate (it cannot be sent as UTF-8), not longer than the column."""
    if type(value) is not str or "\x00" in value or len(value) > max_length:
        return False
    try:
        value.encode()
    except UnicodeEncodeError:
        return False
    return True


def _cursor_value(field: Field, value: object) -> object:
    """A cursor's value typed like its column; ValueError when it does not fit."""
    if isinstance(field, DateTimeField):
        if not _is_text_fit(value, max_length=_CURSOR_TIME_MAX_LENGTH):
            raise ValueError("not a time")
        try:
            moment = field.to_python(value)
        except ValidationError as error:
            raise ValueError("not a time") from error
        if moment is None or timezone.is_naive(moment):
            raise ValueError("a time without its time zone")
        return moment
    if isinstance(field, CharField):
        if not _is_text_fit(value, max_length=field.max_length):
            raise ValueError("not a text of the column")
        return value
    raise ValueError(f"no cursor values for {type(field).__name__}")


def client_list_cursor(cursor: str, *, sort: str) -> list | None:
    """The sort values and ID of a list cursor, typed like their columns; None
    when the cursor was not made for this sort or was made up.

    Anything may arrive in the URL, so each value is checked against its
    column before it reaches a query: an ID is an integer in the column's range
    (``true`` is not one), a time is an ISO string with its offset, a text is a
    string without NUL and no longer than its column, and an empty value
    (``null``) only where the column may be empty."""
    order = _Sort.parse(sort)
    try:
        text = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        values = json.loads(text)
    except (ValueError, UnicodeDecodeError, RecursionError):
        return None
    if not isinstance(values, list) or len(values) != len(order.names):
        return None
    *sort_values, pk = values
    low, high = connection.ops.integer_field_range(Client._meta.pk.get_internal_type())
    if type(pk) is not int or not max(low, 1) <= pk <= high:
        return None
    typed = []
    for column, nullable, value in zip(order.columns, order.nullable, sort_values, strict=False):
        if value is None:
            if not nullable:
                return None
            typed.append(None)
            continue
        try:
            typed.append(_cursor_value(_sort_column_field(column), value))
        except ValueError:
            return None
    return [*typed, pk]


def client_list_page(
    *,
    manager: Manager,
    filters: ClientListFilters | None = None,
    sort: str = CLIENT_LIST_DEFAULT_SORT,
    size: int,
    after: str = "",
    before: str = "",
    last: bool = False,
    choices: ClientListChoices | None = None,
) -> ClientPage:
    """One page of the list: the first, the one after the ``after`` cursor,
    the one before the ``before`` cursor, or the last. ``choices`` are the
    filter selects' rows, which name the rows' types, rules and managers
    (read here when not given).

    A search is one more condition on the client table (_search_condition):
    the page is read in the sort order and stops at its end, so a fragment
    that matches half the table costs no more than a rare one, which the
    search text's trigram index finds. A cursor that does not fit the sort
    is ignored."""
    filters = filters or ClientListFilters()
    order = _Sort.parse(sort)
    clients = order.annotate(_filtered(manager=manager, filters=filters))
    backwards = seeking = False
    if after and (values := client_list_cursor(after, sort=sort)):
        clients = clients.filter(order.after(values))
        seeking = True
    elif before and (values := client_list_cursor(before, sort=sort)):
        clients = clients.filter(order.after(values, reverse=True))
        backwards = True
    elif last:
        backwards = True
    ordering = order.ordering(reverse=backwards)
    clients = clients.order_by(*ordering)

    if filters.search:
        clients = clients.filter(_search_condition(filters.search) or Q(pk__in=[]))

    labels = _RowLabels(manager=manager, choices=choices or client_list_choices(manager=manager))
    rows = _page_rows(clients, order=order, limit=size + 1, labels=labels)
    more = len(rows) > size
    rows = rows[:size]
    if backwards:
        rows.reverse()
        has_previous, has_next = more, not last
    else:
        has_previous, has_next = seeking, more
    return ClientPage(
        clients=rows,
        has_next=has_next and bool(rows),
        has_previous=has_previous and bool(rows),
        next_cursor=_encode_cursor(list(rows[-1].sort_values)) if rows else None,
        previous_cursor=_encode_cursor(list(rows[0].sort_values)) if rows else None,
    )
