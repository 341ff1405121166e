"""The client list as CSV: the same rows as the screen, streamed.

On PostgreSQL the database writes the file: the list's query, its filters and
sort included, is wrapped in ``COPY (SELECT …) TO STDOUT (FORMAT csv)`` and
every cell is computed in that SELECT (labels in the reader's language, names,
dates in the panel's time zone, the apostrophe before a formula). Python only
passes the bytes on, ending each line with CR LF as the csv module does. That
streams a million rows in seconds, where building each row in Python took
minutes. Elsewhere (SQLite in development) the rows are read in chunks and
written by the csv module. Both give the same bytes for the same rows
(tests/clients/test_client_export_copy.py)."""

import csv
import json
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass

from django.core.exceptions import EmptyResultSet
from django.db import connections, transaction
from django.db.models import (
    Case,
    Expression,
    F,
    FilteredRelation,
    Func,
    Q,
    QuerySet,
    TextField,
    Value,
    When,
)
from django.db.models.functions import Cast, NullIf
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from clients.models import AccessLevel, Client, ClientStatus, PostpayPermission

BOM = "\ufeff"
# A spreadsheet reads a cell that starts with one of these as a formula.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
CHUNK_SIZE = 500
# The COPY path hands the web server blocks of about this many bytes: one
# write per row would be a system call per row.
COPY_BLOCK_BYTES = 64 * 1024


def neutralise(value: object) -> str:
    """The cell's text, with a leading apostrophe when a spreadsheet would
    otherwise run it as a formula (the OWASP advice on CSV injection). Phone
    numbers such as +7… get it too: they are shown, not computed."""
    text = "" if value is None else str(value)
    if text.startswith(FORMULA_STARTS):
        return "'" + text
    return text


def _owner_name(client: Client) -> str:
    accesses = client.owner_accesses  # prefetched by selectors.client_list
    return accesses[0].user.get_full_name() if accesses else ""


def _owner_email(client: Client) -> str:
    accesses = client.owner_accesses
    return accesses[0].user.email if accesses else ""


@dataclass(frozen=True)
class Column:
    """One column of the file: its header, the cell as Python writes it
    (from a Client with its relations) and the same cell as PostgreSQL
    computes it (text, before the formula apostrophe). ``plain`` columns
    (the ID, the date) never start with a formula character."""

    header: object
    value: Callable[[Client], object]
    expression: Expression
    plain: bool = False


def _labels(label: Callable[[Client], object], key: Callable[[Client], object]):
    """A column of few distinct values (status, country): each label is
    translated once per file, not once per row (100,000 rows)."""
    cache: dict = {}

    def value(client: Client) -> object:
        known = key(client)
        if known not in cache:
            cache[known] = label(client)
        return cache[known]

    return value


def _choice_label(field: str, choices: type) -> Case:
    """A stored choice's label in the active language, as SQL: the labels
    are bound as parameters (quoted by the driver), an unknown key shows
    itself as Django's get_FOO_display does."""
    return Case(
        *(When(**{field: key}, then=Value(str(label))) for key, label in choices.choices),
        default=F(field),
        output_field=TextField(),
    )


class _Lookup(Func):
    """``COALESCE(<json object> ->> key, '')``: the value of a key in a JSON
    object passed as one parameter (the country names: one parameter and a
    hashed look-up instead of a CASE of 250 branches per row)."""

    arg_joiner = "::jsonb ->> "
    template = "COALESCE((%(expressions)s), '')"
    output_field = TextField()


def _country_name() -> _Lookup:
    countries = Client._meta.get_field("country").countries
    names = {code: str(countries.name(code)) for code in countries.countries}
    return _Lookup(Value(json.dumps(names, ensure_ascii=False)), F("country"))


class _FullName(Func):
    """users.models.full_name in SQL: the non-empty parts joined by spaces."""

    template = "concat_ws(' ', %(expressions)s)"
    output_field = TextField()

    def __init__(self, prefix: str) -> None:
        super().__init__(
            *(
                NullIf(F(f"{prefix}{part}"), Value(""))
                for part in ("last_name", "first_name", "middle_name")
            )
        )


def _manager_name() -> Func:
    """str(Manager): the full name, else the email; NULL without a manager."""
    return Func(
        NullIf(_FullName("manager__user__"), Value("")),
        F("manager__user__email"),
        function="COALESCE",
        output_field=TextField(),
    )


class _LocalTime(Func):
    """The moment in the panel's time zone as "YYYY-MM-DD HH:MM"."""

    template = "to_char(%(expressions)s, 'YYYY-MM-DD HH24:MI')"
    arg_joiner = " AT TIME ZONE "
    output_field = TextField()


def client_csv_columns(*, show_postpay: bool, show_reseller: bool) -> list[Column]:
    """The list's columns, in its order; the reseller only for the root's staff.
    Call it with the reader's language and time zone active: the SQL of the
    labels and dates is built here."""
    columns = [
        Column(_("ID"), lambda client: client.pk, Cast("pk", TextField()), plain=True),
        Column(_("Name"), lambda client: client.name, F("name")),
        Column(
            _("Status"),
            _labels(lambda client: client.get_status_display(), lambda client: client.status),
            _choice_label("status", ClientStatus),
        ),
        Column(_("Service rule"), lambda client: client.service_rule.name, F("service_rule__name")),
        Column(_("Client type"), lambda client: client.client_type.name, F("client_type__name")),
        Column(_("Manager"), lambda client: client.manager or "", _manager_name()),
        Column(
            _("Country"),
            _labels(lambda client: client.country.name, lambda client: client.country.code),
            _country_name(),
        ),
        Column(_("City"), lambda client: client.city, F("city")),
        Column(_("Phone"), lambda client: client.phone, F("phone")),
        Column(_("Owner"), _owner_name, _FullName("owner_access__user__")),
        Column(_("Owner email"), _owner_email, F("owner_access__user__email")),
        Column(
            _("Created at"),
            lambda client: timezone.localtime(client.created_at).strftime("%Y-%m-%d %H:%M"),
            _LocalTime(F("created_at"), Value(timezone.get_current_timezone_name())),
            plain=True,
        ),
    ]
    if show_postpay:
        columns.append(
            Column(
                _("Postpay permission"),
                _labels(
                    lambda client: client.get_postpay_permission_display(),
                    lambda client: client.postpay_permission,
                ),
                _choice_label("postpay_permission", PostpayPermission),
            )
        )
    if show_reseller:
        columns.insert(
            1, Column(_("Reseller"), lambda client: client.reseller.name, F("reseller__name"))
        )
    return columns


class _Line:
    """A file-like object whose write() hands the formatted line back."""

    def write(self, value: str) -> str:
        return value


def _header(columns: list[Column]) -> str:
    """The byte-order mark, so that Excel reads Cyrillic right, and the
    header line."""
    return BOM + csv.writer(_Line()).writerow([neutralise(column.header) for column in columns])


def client_csv_lines(*, clients: QuerySet[Client], columns: list[Column]) -> Iterator[str]:
    """The CSV text line by line, written by the csv module from the rows,
    which come from the database in chunks (any database)."""
    writer = csv.writer(_Line())
    yield _header(columns)
    rows: Iterable[Client] = clients.iterator(chunk_size=CHUNK_SIZE)
    for client in rows:
        yield writer.writerow([neutralise(column.value(client)) for column in columns])


# The cell as the csv module writes neutralise(value): an empty cell is NULL
# (COPY writes an empty string as ""), a formula start (= + - @ tab CR, told
# by its code point: a third of the cost of taking the first character) gets
# the apostrophe.
_CELL = (
    "CASE WHEN ascii({column}) IN (61, 43, 45, 64, 9, 13) THEN '''' || {column} "
    "ELSE NULLIF({column}, '') END"
)


def client_csv_copy_statement(
    *, clients: QuerySet[Client], columns: list[Column]
) -> tuple[str, tuple]:
    """The COPY statement of the list's queryset (its filters and sort) and
    its parameters.

    The inner SELECT computes each cell's text in the list's order; the outer
    one adds the apostrophes. PostgreSQL does not flatten a subquery that has
    an ORDER BY, so its rows come out in that order. Raises EmptyResultSet
    when the filters can match nothing."""
    owner = FilteredRelation("accesses", condition=Q(accesses__level=AccessLevel.OWNER))
    cells = (
        clients.select_related(None)
        .prefetch_related(None)
        .alias(owner_access=owner)
        .values(**{f"cell_{number}": column.expression for number, column in enumerate(columns)})
    )
    inner, params = cells.query.get_compiler(using=clients.db).as_sql()
    outer = ", ".join(
        f'"cell_{number}"' if column.plain else _CELL.format(column=f'"cell_{number}"')
        for number, column in enumerate(columns)
    )
    # Only the cell names are formatted in; every value is in the parameters.
    statement = f"COPY (SELECT {outer} FROM ({inner}) AS cells) TO STDOUT (FORMAT csv)"  # noqa: S608
    return statement, tuple(params)


def client_csv_copy(*, clients: QuerySet[Client], columns: list[Column]) -> Iterator[bytes]:
    """The CSV file as PostgreSQL writes it, in blocks of about 64 kB. The
    header and the statement are made now, in the reader's language; the
    rows are read as the response is sent."""
    header = _header(columns).encode()
    try:
        statement, params = client_csv_copy_statement(clients=clients, columns=columns)
    except EmptyResultSet:
        return iter([header])
    connection = connections[clients.db]
    # COPY takes no bound parameters: they are quoted into the statement by
    # the driver (psycopg's client-side binding, through Django).
    return _copy_blocks(connection, header, connection.ops.compose_sql(statement, params))


def _copy_blocks(connection, header: bytes, statement: str) -> Iterator[bytes]:
    """PostgreSQL sends one message per row, each ending with LF; the csv
    module ends lines with CR LF, so the last byte of each row is rewritten
    (a line break inside a quoted cell stays as it is, as the csv module
    leaves it). COPY needs no server-side cursor (PgBouncer's transaction
    pooling), and a download broken off cancels it.

    Without JIT: for a statement this size PostgreSQL's JIT compiler spends
    seconds (4 s of 12 for 840,000 rows here) making code that saves less
    than that; SET LOCAL lasts until the end of the export's transaction."""
    block = bytearray(header)
    with (
        transaction.atomic(using=connection.alias),
        connection.wrap_database_errors,
        connection.cursor() as cursor,
    ):
        cursor.execute("SET LOCAL jit = off")
        with cursor.copy(statement) as copy:
            for row in copy:
                block += row[:-1]
                block += b"\r\n"
                if len(block) >= COPY_BLOCK_BYTES:
                    yield bytes(block)
                    block.clear()
    if block:
        yield bytes(block)


def client_csv(*, clients: QuerySet[Client], columns: list[Column]) -> Iterator[str | bytes]:
    """The export of the list's queryset: COPY on PostgreSQL, the csv module
    elsewhere."""
    if connections[clients.db].vendor == "postgresql":
        return client_csv_copy(clients=clients, columns=columns)
    return client_csv_lines(clients=clients, columns=columns)
