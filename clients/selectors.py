"""Reads about clients, always scoped to the reseller of the signed-in manager."""

import base64
import datetime as dt
import hashlib
import json
import re
import uuid
from collections.abc import Sequence
from dataclasses import dataclass

from django.conf import settings
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.db import connection, connections, router
from django.db.models import (
    Case,
    CharField,
    DateTimeField,
    Exists,
    F,
    Field,
    FilteredRelation,
    IntegerField,
    Model,
    OrderBy,
    OuterRef,
    Prefetch,
    Q,
    QuerySet,
    Subquery,
    Value,
    When,
)
from django.db.models.expressions import RawSQL
from django.db.models.fields.tuple_lookups import Tuple, TupleGreaterThan, TupleLessThan
from django.db.models.functions import Left, Lower
from django.db.models.lookups import Lookup
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from clients.models import (
    AccessLevel,
    Client,
    ClientAccess,
    ClientAttributeValue,
    ClientEvent,
    ClientStatus,
    OwnerEmailCheck,
    PostpayPermission,
    TermsStatus,
)
from clients.search import search_fragment
from rules.models import AttributeValueType, ClientType, ServiceRule
from users.models import Manager, Reseller, User, full_name
from users.selectors import panel_people, reseller_reach


def reseller_in_reach(*, manager: Manager, reseller: Reseller) -> bool:
    """Whether the manager may act for the reseller: their own, any reseller
    downstream of it (users.selectors.reseller_reach; the API creates
    clients of those), every one for the root reseller's staff. The panel's
    pages list the manager's own reseller's clients
    (client_queryset_for_manager)."""
    if manager.reseller.is_root or manager.reseller_id == reseller.pk:
        return True
    return reseller_reach(reseller=manager.reseller).filter(pk=reseller.pk).exists()


def client_queryset_for_manager(*, manager: Manager) -> QuerySet[Client]:
    """Every client the manager may see: their reseller's; the root reseller's
    staff see all resellers' (reseller_in_reach)."""
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


class _InSubquery(Lookup):
    """``column IN (subquery)``, written ``column = ANY(ARRAY(subquery))`` on
    PostgreSQL: the subquery runs once, before the scan, and its IDs are a
    condition an index can serve, so that ORed with the search text's it
    makes one bitmap scan of both indexes, not a walk of the whole table
    testing each row against the subquery."""

    lookup_name = "in_subquery"
    prepare_rhs = False

    def as_sql(self, compiler, connection):
        lhs, lhs_params = self.process_lhs(compiler, connection)
        rhs, rhs_params = self.process_rhs(compiler, connection)
        return f"{lhs} IN {rhs}", (*lhs_params, *rhs_params)

    def as_postgresql(self, compiler, connection):
        lhs, lhs_params = self.process_lhs(compiler, connection)
        rhs, rhs_params = self.process_rhs(compiler, connection)
        return f"{lhs} = ANY(ARRAY{rhs})", (*lhs_params, *rhs_params)


def _inn_client_ids(inn: str) -> QuerySet[ClientAttributeValue]:
    prefix = Left("value", ATTRIBUTE_VALUE_INDEXED_PREFIX)
    return (
        ClientAttributeValue.objects.alias(value_prefix=prefix)
        .filter(attribute__key="inn", value_prefix=inn[:ATTRIBUTE_VALUE_INDEXED_PREFIX], value=inn)
        .values("client_id")
    )


def _search_condition(search: str) -> Q | None:
    """What the search matches: the ID (exact); the name, phone and owner's
    email (a fragment of three characters or more, in Client.search_text,
    clients/search.py); the phone also as typed with spaces, dashes and
    brackets; an INN (exact). Shorter input runs no substring search at all:
    only the exact ID and the exact phone. One condition on the client table:
    the page reads its rows in the list's order and stops at the page's end.
    None when nothing can match (two letters, say)."""
    search = search.strip()
    condition = Q()
    number = search.removeprefix("#")
    # 18 digits stay inside a bigint on every database.
    if number.isdigit() and len(number) <= 18:
        condition |= Q(pk=int(number))
    # Phones are kept as +79161234567: look past the spaces, dashes and
    # brackets people type.
    phone = re.sub(r"[\s().-]", "", search)
    has_digits = any(character.isdigit() for character in phone)
    if len(search) < SEARCH_MIN_LENGTH:
        if has_digits:
            condition |= Q(phone=phone)
        return condition or None
    fragments = [search]
    if has_digits and len(phone) >= SEARCH_MIN_LENGTH and phone != search:
        fragments.append(phone)
    for fragment in fragments:
        folded = search_fragment(fragment)
        if folded is not None:
            condition |= Q(search_text__contains=folded)
    if search.isdigit() and len(search) in INN_LENGTHS:
        condition |= Q(_InSubquery(F("pk"), _inn_client_ids(search)))
    return condition or None


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
    page, and three or four round trips cost more than the rows. Its rows are
    kept CLIENT_LIST_CHOICES_SECONDS in the process's cache, by reseller: a
    type, rule or manager added meanwhile shows in the selects that much
    later (the list's rows name one the selects do not offer yet by reading
    it, see _RowLabels). The rows come back as model instances holding what
    the selects and the list's names use (name, colour, the manager's user
    names, the reseller)."""
    root = manager.reseller.is_root
    database = connections[router.db_for_read(ClientType)]
    key = f"client-list-choices:{database.alias}:{'root' if root else manager.reseller_id}"
    rows = cache.get(key) if settings.CLIENT_LIST_CHOICES_SECONDS else None
    if rows is None:
        statement = _choices_sql(scoped=not root, quote_name=database.ops.quote_name)
        with database.cursor() as cursor:
            cursor.execute(statement, [] if root else [manager.reseller_id] * 3)
            rows = cursor.fetchall()
        if settings.CLIENT_LIST_CHOICES_SECONDS:
            cache.set(key, rows, settings.CLIENT_LIST_CHOICES_SECONDS)
    client_types: list[ClientType] = []
    service_rules: list[ServiceRule] = []
    managers: list[Manager] = []
    resellers: dict[int, Reseller] = {}
    listed_resellers: list[Reseller] = []
    # Built as loaded from the database (from_db, the other fields deferred),
    # so that joining them up asks the router for no database to write to.
    alias = database.alias

    def loaded(model: type, **values: object):
        names = [field.attname for field in model._meta.concrete_fields if field.attname in values]
        return model.from_db(alias, names, [values[name] for name in names])

    for row in rows:
        kind, pk, name, colour, reseller_id, reseller_name, last, first, middle, email = row[:10]
        if reseller_id not in resellers:
            resellers[reseller_id] = loaded(Reseller, id=reseller_id, name=reseller_name)
        reseller = resellers[reseller_id]
        if kind == 0:
            item = loaded(ClientType, id=pk, name=name, reseller_id=reseller_id)
            item.reseller = reseller
            client_types.append(item)
        elif kind == 1:
            item = loaded(ServiceRule, id=pk, name=name, colour=colour, reseller_id=reseller_id)
            item.reseller = reseller
            service_rules.append(item)
        elif kind == 2:
            item = loaded(Manager, id=pk, reseller_id=reseller_id)
            # The user's ID is not read: the select shows only its names.
            item.user = loaded(
                User, id=None, email=email, last_name=last, first_name=first, middle_name=middle
            )
            item.reseller = reseller
            managers.append(item)
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
                "terms_accepted_by_owner",
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
    """One line of "Additional information" on the client page: the stored
    value and, for a list, the chosen option's name (the template tag
    ``attribute_value`` words it for the reader)."""

    name: str
    value_type: str
    value: str
    option_name: str = ""


def client_attribute_rows(*, client: Client) -> list[AttributeRow]:
    """The client's attribute values by attribute weight."""
    values = (
        ClientAttributeValue.objects.filter(client=client)
        .select_related("attribute")
        .prefetch_related("attribute__options")
        .order_by("attribute__weight", "attribute__name", "pk")
    )
    rows = []
    for item in values:
        attribute = item.attribute
        option_name = ""
        if attribute.value_type == AttributeValueType.LIST:
            names = {option.key: option.name for option in attribute.options.all()}
            option_name = names.get(item.value, "")
        rows.append(
            AttributeRow(
                name=attribute.name,
                value_type=attribute.value_type,
                value=item.value,
                option_name=option_name,
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


def client_created_with_token(*, token: uuid.UUID) -> Client | None:
    """The client already created with this one-time token (of an Add client
    page), whichever reseller's: the caller compares the reseller."""
    return Client.objects.filter(creation_token=token).first()


# How long a manager's checks of emails out of their reach are counted
# (settings.OWNER_EMAIL_CHECKS_PER_HOUR).
OWNER_EMAIL_CHECK_WINDOW = dt.timedelta(hours=1)
EMAIL_UNAVAILABLE = _(
    "This email cannot be used for a new owner. Choose another email or select an existing user."
)
EMAIL_UNAVAILABLE_FOR_USER = _(
    "This email cannot be used for a new user. Choose another email or add an existing user."
)


def user_with_email(email: str) -> User | None:
    """The user whose email this is in any letter case: as the login matches it
    (UPPER) and as the unique constraint does (LOWER), which disagree on a few
    letters (the Kelvin sign K lowers to k but stays itself in upper case)."""
    return (
        User.objects.alias(email_lower=Lower("email"))
        .filter(Q(email__iexact=email) | Q(email_lower=Lower(Value(email))))
        .order_by("pk")
        .first()
    )


def owner_email_checks_recent(*, manager: Manager) -> set[str]:
    """The emails out of their reach that the manager typed for a new user in
    the last OWNER_EMAIL_CHECK_WINDOW (one per account, in lower case)."""
    since = timezone.now() - OWNER_EMAIL_CHECK_WINDOW
    return set(
        OwnerEmailCheck.objects.filter(manager=manager, checked_at__gte=since).values_list(
            "email", flat=True
        )
    )


def new_owner_email_problem(
    *, reseller: Reseller, email: str, as_owner: bool = True, checks_exhausted: bool = False
) -> ValidationError | None:
    """The error for a new owner's (or, ``as_owner`` False, a new client
    user's) email that cannot be used, or None.

    The email of a user the reseller could choose offers that user instead
    (``params["user_id"]``). Any other taken email gets the neutral
    EMAIL_UNAVAILABLE (code ``email_unavailable``), worded so that it tells
    nothing of whether the email has an account; so does every email, a new
    one too, once the manager's checks are exhausted (``checks_exhausted``,
    see ``clients.services.new_user_email_problem``), so that the page
    cannot be used to probe emails in bulk."""
    existing = user_with_email(email.strip())
    if existing is not None and (
        user_list_owner_candidates(reseller=reseller).filter(pk=existing.pk).exists()
    ):
        return ValidationError(
            _("%(user)s already has this email: select this user as the owner instead.")
            if as_owner
            else _("%(user)s already has this email: add this user as an existing user instead."),
            code="email_taken",
            params={"user": str(existing), "user_id": existing.pk},
        )
    if existing is None and not checks_exhausted:
        return None
    return ValidationError(
        EMAIL_UNAVAILABLE if as_owner else EMAIL_UNAVAILABLE_FOR_USER,
        code="email_unavailable",
        params={"user_id": None},
    )


# Where a manager may move a client from each status (DESIGN.md, "Statuses").
# Credit hold is never a manager's target: only the system sets it, through
# services.client_set_credit_hold. Deleted is final.
STATUS_TRANSITIONS: dict[str, frozenset[str]] = {
    ClientStatus.ACTIVE: frozenset({ClientStatus.ADMINISTRATIVE_HOLD, ClientStatus.DELETED}),
    ClientStatus.CREDIT_HOLD: frozenset(
        {ClientStatus.ACTIVE, ClientStatus.ADMINISTRATIVE_HOLD, ClientStatus.DELETED}
    ),
    ClientStatus.ADMINISTRATIVE_HOLD: frozenset({ClientStatus.ACTIVE, ClientStatus.DELETED}),
    ClientStatus.DELETED: frozenset(),
}
POSTPAY_UNDECIDED = frozenset({PostpayPermission.NOT_VERIFIED, PostpayPermission.APPROVAL_REQUIRED})


def client_status_targets(*, client: Client) -> list[ClientStatus]:
    """The statuses a manager may move the client to now, in ClientStatus order."""
    allowed = STATUS_TRANSITIONS.get(client.status, frozenset())
    return [status for status in ClientStatus if status in allowed]


def client_postpay_can_decide(*, client: Client) -> bool:
    """Whether a manager may still approve or decline the client's postpay:
    only while the reseller decides by hand, and only once."""
    return (
        client.reseller.postpay_is_manual
        and client.postpay_decided_at is None
        and client.postpay_permission in POSTPAY_UNDECIDED
    )


def client_list_awaiting_owner_terms(*, user: User) -> list[Client]:
    """The clients this user owns whose terms wait for the owner to accept
    them (not deleted), with their resellers, for the password-setup page."""
    return list(
        Client.objects.filter(
            accesses__user=user,
            accesses__level=AccessLevel.OWNER,
            terms_status=TermsStatus.PENDING,
        )
        .exclude(status=ClientStatus.DELETED)
        .select_related("reseller")
        .order_by("pk")
    )


def client_access_for_user(*, client: Client, user_id: int) -> ClientAccess | None:
    """The user's access to the client, with the user, or None."""
    return (
        ClientAccess.objects.select_related("user").filter(client=client, user_id=user_id).first()
    )


def client_owner_access(*, client: Client) -> ClientAccess | None:
    return (
        ClientAccess.objects.select_related("user")
        .filter(client=client, level=AccessLevel.OWNER)
        .first()
    )


@dataclass(frozen=True)
class UserCandidate:
    """A user found by the Add a user page's search, and their level in the
    client when they have access already (then they cannot be chosen)."""

    user: User
    level_label: str | None


def client_user_candidates(*, client: Client, query: str) -> list[UserCandidate]:
    """The users who may be given access to the client whose name or email
    matches the query: the owner picker's search (``owner_search`` for the
    client's reseller: reachable, no panel people, at least three characters,
    at most twenty), each with their level in this client when they have one."""
    users = owner_search(reseller=client.reseller, query=query)
    levels = dict(
        ClientAccess.objects.filter(client=client, user__in=users).values_list("user_id", "level")
    )
    labels = dict(AccessLevel.choices)
    return [
        UserCandidate(user=user, level_label=labels[levels[user.pk]] if user.pk in levels else None)
        for user in users
    ]


# --- Which users a reseller reaches: through accesses to its clients ------------------
# (user_list_reachable and the owner search read ClientAccess, so they live
# with the clients' reads and the users app never imports clients.)

# Under three characters no trigram index can help and a fragment matches a
# large share of the users: no substring query is run at all.
OWNER_SEARCH_MIN_LENGTH = 3
OWNER_SEARCH_LIMIT = 20
OWNER_SEARCH_CANDIDATES = 1000
OWNER_SEARCH_MAX_WORDS = 4
OWNER_SEARCH_MAX_WORD_LENGTH = 100


def _reseller_accesses(*, reseller: Reseller) -> QuerySet:
    """The accesses that make a user reachable by a (non-root) reseller: to
    one of its clients."""
    return ClientAccess.objects.filter(client__reseller=reseller)


def user_list_reachable(*, reseller: Reseller) -> QuerySet[User]:
    """Active users within a reseller's reach: users with access to one of
    the reseller's clients; the root reseller reaches every user. Who of them
    may own a client is ``user_list_owner_candidates``.

    A semi-join (EXISTS), not a join with DISTINCT: the database can then walk
    the users in name order and stop at the page size."""
    users = User.objects.filter(is_active=True)
    if not reseller.is_root:
        users = users.filter(
            Exists(_reseller_accesses(reseller=reseller).filter(user=OuterRef("pk")))
        )
    return users


def user_list_owner_candidates(*, reseller: Reseller) -> QuerySet[User]:
    """Users a reseller's manager may make a client's owner: the reachable
    ones that ``users.selectors.user_may_own_clients`` admits."""
    users = user_list_reachable(reseller=reseller)
    if not settings.OWNERS_MAY_BE_STAFF:
        users = users.exclude(panel_people())
    return users


def owner_search_words(query: str) -> list[str]:
    """The words the owner search looks for; none when the query has fewer
    than OWNER_SEARCH_MIN_LENGTH characters besides spaces."""
    words = query.replace("\x00", "").split()
    return words if len("".join(words)) >= OWNER_SEARCH_MIN_LENGTH else []


def owner_search(*, reseller: Reseller, query: str) -> list[User]:
    """Owner candidates (``user_list_owner_candidates``) whose name or email
    contains every word of the query; nothing for fewer than three
    characters, at most twenty, by name (of the first thousand matches found).

    On PostgreSQL each word is one case-insensitive condition per column,
    served by the trigram index of users/migrations/0002 (UPPER(...) LIKE).
    SQLite's LIKE folds the case of ASCII letters only, so there the usual
    spellings of a Cyrillic word are tried too (ирина, Ирина, ИРИНА)."""
    words = owner_search_words(query)
    if not words:
        return []
    matches = User.objects.filter(is_active=True)
    if not settings.OWNERS_MAY_BE_STAFF:
        matches = matches.exclude(panel_people())  # as user_list_owner_candidates
    postgresql = connections[matches.db].vendor == "postgresql"
    # A person types a name and a surname; a pasted essay must not build a
    # query the database refuses.
    for word in words[:OWNER_SEARCH_MAX_WORDS]:
        word = word[:OWNER_SEARCH_MAX_WORD_LENGTH]
        variants = {word} if postgresql else {word, word.lower(), word.capitalize(), word.upper()}
        condition = Q()
        for variant in variants:
            condition |= (
                Q(email__icontains=variant)
                | Q(first_name__icontains=variant)
                | Q(middle_name__icontains=variant)
                | Q(last_name__icontains=variant)
            )
        matches = matches.filter(condition)
    # The matches are found first, at most OWNER_SEARCH_CANDIDATES of them
    # (through the trigram index, in no particular order), and only those are
    # sorted by name. Walking a million users in name order until twenty match
    # takes seconds when the matches sit at the end of the alphabet ("Сми").
    # A fragment with more matches shows twenty of the first ones found: the
    # person types on to narrow it.
    #
    # The matching is a MATERIALIZED CTE, which PostgreSQL plans for all its
    # rows (through the trigram index) and still reads only as far as the
    # limit needs. Planned under the limit instead, it may scan the table
    # until a thousand match, four UPPER(...) LIKE per row: about 50 ms for
    # "Сми" (2% of a million users) where the index takes 13 ms. Only SQL the
    # ORM compiled is put together here; what was typed stays in parameters.
    match_sql, params = matches.order_by().values("pk").query.sql_with_params()
    materialized = "MATERIALIZED " if postgresql else ""
    sql = f"WITH matches AS {materialized}({match_sql}) SELECT pk FROM matches"  # noqa: S608
    if not reseller.is_root:
        # The users user_list_reachable admits (is_active is in the matches).
        accesses = _reseller_accesses(reseller=reseller).values("user_id")
        access_sql, access_params = accesses.order_by().query.sql_with_params()
        sql += f" WHERE pk IN ({access_sql})"
        params += access_params
    candidates = RawSQL(f"{sql} LIMIT %s", (*params, OWNER_SEARCH_CANDIDATES))  # noqa: S611
    return list(
        User.objects.filter(pk__in=candidates).order_by("last_name", "first_name", "email")[
            :OWNER_SEARCH_LIMIT
        ]
    )


def client_attribute_values(*, client: Client) -> dict[str, str]:
    """The client's stored attribute values by attribute key, as text."""
    return dict(
        ClientAttributeValue.objects.filter(client=client).values_list("attribute__key", "value")
    )


def client_hidden_values_lost(*, client: Client, client_type: ClientType) -> list[str]:
    """The names of the client's attributes that the client pages do not show
    (read-only for admin), hold a value, and do not belong to ``client_type``:
    what a change to that type would lose unseen."""
    return list(
        ClientAttributeValue.objects.filter(client=client, attribute__read_only_for_admin=True)
        .exclude(value="")
        .exclude(attribute__client_types=client_type)
        .order_by("attribute__weight", "attribute__name")
        .values_list("attribute__name", flat=True)
    )
