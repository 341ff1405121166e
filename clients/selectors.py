"""Reads about clients, always scoped to the reseller of the signed-in manager."""

import base64
import datetime as dt
import json
import re
import uuid
from collections.abc import Sequence
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.db import connections, router
from django.db.models import (
    Case,
    F,
    FilteredRelation,
    IntegerField,
    OrderBy,
    OuterRef,
    Prefetch,
    Q,
    QuerySet,
    Subquery,
    Value,
    When,
)
from django.db.models.fields.tuple_lookups import Tuple, TupleGreaterThan, TupleLessThan
from django.db.models.functions import Left
from django.http import Http404
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext

from clients.models import (
    AccessLevel,
    Client,
    ClientAccess,
    ClientAttributeValue,
    ClientEvent,
    ClientStatus,
    PostpayPermission,
)
from rules.models import AttributeValueType, ClientType, ServiceRule
from users.models import Manager, Reseller, User, full_name


def client_queryset_for_manager(*, manager: Manager) -> QuerySet[Client]:
    """Every client the manager may see: their reseller's; the root reseller's
    staff see all resellers'."""
    clients = Client.objects.all()
    if not manager.reseller.is_root:
        clients = clients.filter(reseller_id=manager.reseller_id)
    return clients


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
# Substring search needs three characters: one or two match half the table
# and no trigram index can narrow them.
SEARCH_MIN_LENGTH = 3
# An INN has 10 (organisation) or 12 (person) digits; it is matched exactly.
INN_LENGTHS = (10, 12)
# The B-tree on attribute values covers this prefix (clients/migrations/0002).
ATTRIBUTE_VALUE_INDEXED_PREFIX = 100


def _owner_field(field: str) -> Subquery:
    owner = ClientAccess.objects.filter(client=OuterRef("pk"), level=AccessLevel.OWNER)
    return Subquery(owner.values(f"user__{field}")[:1])


@dataclass(frozen=True)
class _SearchBranches:
    """The search split by table: each part is its own query that an index
    can serve (an OR across tables would scan the whole client table)."""

    client: Q | None  # name, phone, ID: one table, one bitmap or ordered scan
    owner_email: str | None
    inn: str | None

    def querysets(self, clients: QuerySet[Client]) -> list[QuerySet[Client]]:
        """The clients narrowed by each part, one queryset per table."""
        parts = []
        if self.client is not None:
            parts.append(clients.filter(self.client))
        if self.owner_email is not None:
            parts.append(
                clients.filter(
                    accesses__level=AccessLevel.OWNER,
                    accesses__user__email__icontains=self.owner_email,
                )
            )
        if self.inn is not None:
            parts.append(clients.filter(pk__in=_inn_client_ids(self.inn)))
        return parts

    def as_condition(self) -> Q:
        """The whole search as one condition, for the CSV export."""
        condition = self.client if self.client is not None else Q(pk__in=[])
        if self.owner_email is not None:
            condition |= Q(pk__in=_owner_email_client_ids(self.owner_email))
        if self.inn is not None:
            condition |= Q(pk__in=_inn_client_ids(self.inn))
        return condition


def _owner_email_client_ids(fragment: str) -> QuerySet[ClientAccess]:
    return ClientAccess.objects.filter(
        level=AccessLevel.OWNER, user__email__icontains=fragment
    ).values("client_id")


def _inn_client_ids(inn: str) -> QuerySet[ClientAttributeValue]:
    prefix = Left("value", ATTRIBUTE_VALUE_INDEXED_PREFIX)
    return (
        ClientAttributeValue.objects.alias(value_prefix=prefix)
        .filter(attribute__key="inn", value_prefix=inn[:ATTRIBUTE_VALUE_INDEXED_PREFIX], value=inn)
        .values("client_id")
    )


def _search_branches(search: str) -> _SearchBranches:
    """ID (exact), name, owner email and phone (substring from three
    characters), INN (exact). Shorter input runs no substring query at all:
    only the exact ID and the exact phone."""
    search = search.strip()
    client = Q()
    number = search.removeprefix("#")
    # 18 digits stay inside a bigint on every database.
    if number.isdigit() and len(number) <= 18:
        client |= Q(pk=int(number))
    # Phones are kept as +79161234567: look past the spaces, dashes and
    # brackets people type.
    phone = re.sub(r"[\s().-]", "", search)
    has_digits = any(character.isdigit() for character in phone)
    if len(search) < SEARCH_MIN_LENGTH:
        if has_digits:
            client |= Q(phone=phone)
        return _SearchBranches(client=client or None, owner_email=None, inn=None)
    client |= Q(name__icontains=search)
    if has_digits and len(phone) >= SEARCH_MIN_LENGTH:
        client |= Q(phone__icontains=phone)
    inn = search if search.isdigit() and len(search) in INN_LENGTHS else None
    return _SearchBranches(client=client, owner_email=search, inn=inn)


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
        clients = clients.filter(_search_branches(filters.search).as_condition())
    order = _Sort.parse(sort)
    return _with_row_data(order.annotate(clients)).order_by(*order.ordering())


def _with_row_data(clients: QuerySet[Client]) -> QuerySet[Client]:
    owner_accesses = ClientAccess.objects.filter(level=AccessLevel.OWNER).select_related("user")
    return clients.select_related(
        "client_type", "service_rule", "manager__user", "reseller"
    ).prefetch_related(Prefetch("accesses", queryset=owner_accesses, to_attr="owner_accesses"))


@dataclass(frozen=True, kw_only=True)
class ClientListChoices:
    """What the client list's filters offer the manager, scoped like the list."""

    client_types: Sequence[ClientType]
    service_rules: Sequence[ServiceRule]
    managers: Sequence[Manager]
    resellers: Sequence[Reseller] | None  # only for the root reseller's staff


def _choices_sql(*, scoped: bool, quote_name) -> str:
    """client_list_choices' query: the four kinds of rows in common columns
    (kind, ID, name, colour, reseller ID and name, a user's last, first and
    middle name and email), each kind in its order. Written out, not built
    with the ORM: composing and compiling four annotated parts of a UNION
    took three times as long as the database took to answer, on every list
    page. Only table names are formatted in; the reseller is a parameter."""
    types, rules = quote_name(ClientType._meta.db_table), quote_name(ServiceRule._meta.db_table)
    managers, users = quote_name(Manager._meta.db_table), quote_name(User._meta.db_table)
    resellers = quote_name(Reseller._meta.db_table)
    where = "WHERE x.reseller_id = %s" if scoped else ""
    blanks = "'', '', '', ''"
    parts = [
        f"SELECT 0, x.id, x.name, '', x.reseller_id, r.name, {blanks}, x.name, '', '' "  # noqa: S608
        f"FROM {types} x JOIN {resellers} r ON r.id = x.reseller_id {where}",
        f"SELECT 1, x.id, x.name, x.colour, x.reseller_id, r.name, {blanks}, x.name, '', '' "  # noqa: S608
        f"FROM {rules} x JOIN {resellers} r ON r.id = x.reseller_id {where}",
        "SELECT 2, x.id, '', '', x.reseller_id, r.name, u.last_name, u.first_name, "  # noqa: S608
        "u.middle_name, u.email, u.last_name, u.first_name, u.email "
        f"FROM {managers} x JOIN {users} u ON u.id = x.user_id "
        f"JOIN {resellers} r ON r.id = x.reseller_id {where}",
    ]
    if not scoped:
        parts.append(
            f"SELECT 3, r.id, r.name, '', r.id, r.name, {blanks}, r.name, '', '' FROM {resellers} r"  # noqa: S608
        )
    return " UNION ALL ".join(parts) + " ORDER BY 1, 11, 12, 13, 2"


def client_list_choices(*, manager: Manager) -> ClientListChoices:
    """The types, rules and managers of the manager's reseller (every
    reseller's, with the resellers themselves, for the root reseller's staff),
    each kind by name. Inactive managers stay: clients may still be theirs.

    One query for all of them (UNION ALL): the list asks for them on every
    page, and three or four round trips cost more than the rows. The rows
    come back as model instances holding what the selects and the list's
    names use (name, colour, the manager's user names, the reseller)."""
    root = manager.reseller.is_root
    database = connections[router.db_for_read(ClientType)]
    statement = _choices_sql(scoped=not root, quote_name=database.ops.quote_name)
    with database.cursor() as cursor:
        cursor.execute(statement, [] if root else [manager.reseller_id] * 3)
        rows = cursor.fetchall()
    client_types: list[ClientType] = []
    service_rules: list[ServiceRule] = []
    managers: list[Manager] = []
    resellers: dict[int, Reseller] = {}
    listed_resellers: list[Reseller] = []
    for kind, pk, name, colour, reseller_id, reseller_name, last, first, middle, email, *_ in rows:
        if reseller_id not in resellers:
            resellers[reseller_id] = Reseller(pk=reseller_id, name=reseller_name)
        reseller = resellers[reseller_id]
        if kind == 0:
            client_types.append(ClientType(pk=pk, name=name, reseller=reseller))
        elif kind == 1:
            service_rules.append(ServiceRule(pk=pk, name=name, colour=colour, reseller=reseller))
        elif kind == 2:
            user = User(email=email, last_name=last, first_name=first, middle_name=middle)
            managers.append(Manager(pk=pk, user=user, reseller=reseller))
        else:
            listed_resellers.append(reseller)
    return ClientListChoices(
        client_types=client_types,
        service_rules=service_rules,
        managers=managers,
        resellers=listed_resellers if root else None,
    )


@dataclass(frozen=True, slots=True, kw_only=True)
class ClientRow:
    """One line of the client list as plain values, labels included.

    The page reads its rows in one query of the columns shown, the owner
    joined: no model instances (fifty rows would build some three hundred,
    with their type, rule, manager, user and reseller) and no second query
    for the owners."""

    pk: int
    name: str
    status: str
    status_label: str
    reseller: str
    service_rule: str
    service_rule_colour: str
    client_type: str
    manager: str  # "" when the client has none
    country_name: str
    city: str
    phone: str
    owner_name: str  # "" when the client has no owner
    owner_email: str
    created_at: dt.datetime
    postpay_label: str
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
    # Labels are looked up (and translated) once per value, not once per row.
    statuses = {value: str(label) for value, label in ClientStatus.choices}
    postpays = {value: str(label) for value, label in PostpayPermission.choices}
    countries = Client._meta.get_field("country").countries
    country_names: dict[str, str] = {}
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
        if country not in country_names:
            country_names[country] = str(countries.name(country)) if country else ""
        rule, rule_colour = labels.rules[rule_id]
        rows.append(
            ClientRow(
                pk=pk,
                name=name,
                status=status,
                status_label=statuses.get(status, status),
                reseller=labels.resellers[reseller_id],
                service_rule=rule,
                service_rule_colour=rule_colour,
                client_type=labels.types[type_id],
                manager=labels.managers[manager_id] if manager_id is not None else "",
                country_name=country_names[country],
                city=city,
                phone=phone,
                owner_name=full_name(owner_last, owner_first, owner_middle),
                owner_email=owner_email or "",
                created_at=created_at,
                postpay_label=postpays.get(postpay, postpay),
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


def _decode_cursor(cursor: str, *, clients: QuerySet[Client], order: _Sort) -> list | None:
    """The sort values in a cursor, typed like their columns; None when the
    cursor was not made for this sort (or was made up)."""
    try:
        text = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        values = json.loads(text)
    except (ValueError, UnicodeDecodeError):
        return None
    if not isinstance(values, list) or len(values) != len(order.names):
        return None
    typed = []
    for name, value in zip(order.names, values, strict=True):
        if value is not None and not isinstance(value, int | str):
            return None
        if name == "pk":
            if not isinstance(value, int) or isinstance(value, bool):
                return None
            typed.append(value)
            continue
        field = clients.query.annotations[name].output_field
        try:
            typed.append(None if value is None else field.to_python(value))
        except ValidationError:
            return None
    if any(isinstance(value, dt.datetime) and timezone.is_naive(value) for value in typed):
        return None
    return typed


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

    A search looks in each table on its own (clients, owners' emails, INNs),
    each part stopped at the page size by the sort order, then reads the
    page among those few IDs (on PostgreSQL all in one query): a fragment
    that matches half the table costs no more than a rare one. A cursor that
    does not fit the sort is ignored."""
    filters = filters or ClientListFilters()
    order = _Sort.parse(sort)
    clients = order.annotate(_filtered(manager=manager, filters=filters))
    backwards = seeking = False
    if after and (values := _decode_cursor(after, clients=clients, order=order)):
        clients = clients.filter(order.after(values))
        seeking = True
    elif before and (values := _decode_cursor(before, clients=clients, order=order)):
        clients = clients.filter(order.after(values, reverse=True))
        backwards = True
    elif last:
        backwards = True
    ordering = order.ordering(reverse=backwards)
    clients = clients.order_by(*ordering)

    if filters.search:
        # Each table's first matches in the list's order: on PostgreSQL one
        # subquery (UNION ALL of ordered, limited parts), one round trip;
        # SQLite cannot limit the parts of a UNION, so there one query each.
        parts = [
            branch.values_list("pk", flat=True)[: size + 1]
            for branch in _search_branches(filters.search).querysets(clients)
        ]
        if connections[clients.db].features.supports_slicing_ordering_in_compound and parts:
            first, *others = parts
            clients = clients.filter(pk__in=first.union(*others, all=True) if others else first)
        else:
            clients = clients.filter(pk__in=sorted({pk for part in parts for pk in part}))

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


def client_list_total(*, manager: Manager, filters: ClientListFilters | None = None) -> ClientTotal:
    """The number of clients the list's search and filters match, without an
    unbounded COUNT: PostgreSQL's estimate first (one EXPLAIN; a search adds
    up its tables' parts); when that is at most CLIENT_LIST_COUNT_CAP and the
    count looks cheap, one count stopped at the cap gives the exact number.
    Elsewhere (SQLite) the bounded count alone."""
    filters = filters or ClientListFilters()
    clients = _filtered(manager=manager, filters=filters).order_by()
    parts = [clients]
    if filters.search:
        parts = [part.values("pk") for part in _search_branches(filters.search).querysets(clients)]
        if not parts:
            return ClientTotal(number=0)
    first, *others = parts
    if connections[clients.db].vendor == "postgresql":
        # Every part's rows added up (UNION ALL): a client found twice is
        # counted twice in the estimate only.
        everything = first.union(*others, all=True).order_by() if others else first
        estimate, cost = _plan(everything)
        if estimate > CLIENT_LIST_COUNT_CAP or cost > CLIENT_LIST_COUNT_COST_LIMIT:
            return ClientTotal(number=max(estimate, 1), about=True)
    matches = first.union(*others).order_by() if others else first
    counted = matches[: CLIENT_LIST_COUNT_CAP + 1].count()
    if counted > CLIENT_LIST_COUNT_CAP:
        return ClientTotal(number=CLIENT_LIST_COUNT_CAP, more_than=True)
    return ClientTotal(number=counted)


def client_get(*, manager: Manager, client_id: int) -> Client:
    """One client of the manager's reseller; another reseller's answers 404."""
    try:
        return (
            client_queryset_for_manager(manager=manager)
            .select_related(
                "client_type",
                "service_rule",
                "manager__user",
                "reseller",
                "terms_accepted_by__user",
                "postpay_decided_by",
                "created_by",
            )
            .get(pk=client_id)
        )
    except Client.DoesNotExist as error:
        raise Http404("No such client.") from error


def client_access_list(*, client: Client) -> QuerySet[ClientAccess]:
    """The client's users with their access levels, the Owner first."""
    level_order = Case(
        *(When(level=level, then=Value(position)) for position, level in enumerate(AccessLevel)),
        default=Value(len(AccessLevel)),
        output_field=IntegerField(),
    )
    return (
        ClientAccess.objects.filter(client=client)
        .select_related("user")
        .alias(level_order=level_order)
        .order_by("level_order", "user__email", "pk")
    )


@dataclass(frozen=True, kw_only=True)
class AttributeRow:
    """One line of "Additional information" on the client page."""

    name: str
    value_type: str
    value: str
    display: str


def client_attribute_rows(*, client: Client) -> list[AttributeRow]:
    """The client's attribute values by attribute weight, ready to show:
    a list option by its name, a checkbox as yes/no, a password hidden."""
    values = (
        ClientAttributeValue.objects.filter(client=client)
        .select_related("attribute")
        .prefetch_related("attribute__options")
        .order_by("attribute__weight", "attribute__name", "pk")
    )
    rows = []
    for item in values:
        attribute = item.attribute
        display = item.value
        if attribute.value_type == AttributeValueType.CHECKBOX:
            display = gettext("Yes") if item.value else gettext("No")
        elif attribute.value_type == AttributeValueType.PASSWORD:
            display = "••••••" if item.value else ""
        elif attribute.value_type == AttributeValueType.LIST:
            names = {option.key: option.name for option in attribute.options.all()}
            display = names.get(item.value, item.value)
        elif attribute.value_type == AttributeValueType.DATE and item.value:
            try:
                day = dt.date.fromisoformat(item.value)
            except ValueError:
                pass
            else:
                display = date_format(day, "SHORT_DATE_FORMAT")
        rows.append(
            AttributeRow(
                name=attribute.name,
                value_type=attribute.value_type,
                value=item.value,
                display=display,
            )
        )
    return rows


def client_event_list(*, client: Client) -> QuerySet[ClientEvent]:
    """The client's event log, newest first, with who did it (None = System)."""
    return (
        ClientEvent.objects.filter(client=client)
        .select_related("actor")
        .order_by("-created_at", "-id")
    )


def client_created_from_page(*, manager: Manager, token: uuid.UUID) -> Client | None:
    """The client an Add client page with this one-time token already made,
    among those the manager may see."""
    return client_queryset_for_manager(manager=manager).filter(creation_token=token).first()
