"""The client list as CSV: the same rows as the screen, streamed."""

import csv
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass

from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from clients.models import Client

BOM = "\ufeff"
# A spreadsheet reads a cell that starts with one of these as a formula.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
CHUNK_SIZE = 500


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
    header: object
    value: Callable[[Client], object]


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


def client_csv_columns(*, show_postpay: bool, show_reseller: bool) -> list[Column]:
    """The list's columns, in its order; the reseller only for the root's staff."""
    columns = [
        Column(_("ID"), lambda client: client.pk),
        Column(_("Name"), lambda client: client.name),
        Column(
            _("Status"),
            _labels(lambda client: client.get_status_display(), lambda client: client.status),
        ),
        Column(_("Service rule"), lambda client: client.service_rule.name),
        Column(_("Client type"), lambda client: client.client_type.name),
        Column(_("Manager"), lambda client: client.manager or ""),
        Column(
            _("Country"),
            _labels(lambda client: client.country.name, lambda client: client.country.code),
        ),
        Column(_("City"), lambda client: client.city),
        Column(_("Phone"), lambda client: client.phone),
        Column(_("Owner"), _owner_name),
        Column(_("Owner email"), _owner_email),
        Column(
            _("Created at"),
            lambda client: timezone.localtime(client.created_at).strftime("%Y-%m-%d %H:%M"),
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
            )
        )
    if show_reseller:
        columns.insert(1, Column(_("Reseller"), lambda client: client.reseller.name))
    return columns


class _Line:
    """A file-like object whose write() hands the formatted line back."""

    def write(self, value: str) -> str:
        return value


def client_csv_lines(*, clients: QuerySet[Client], columns: list[Column]) -> Iterator[str]:
    """The CSV text line by line, starting with the UTF-8 byte-order mark so
    that Excel reads Cyrillic right. Rows come from the database in chunks."""
    writer = csv.writer(_Line())
    yield BOM + writer.writerow([neutralise(column.header) for column in columns])
    rows: Iterable[Client] = clients.iterator(chunk_size=CHUNK_SIZE)
    for client in rows:
        yield writer.writerow([neutralise(column.value(client)) for column in columns])
