"""The client list's filter selects: the types, rules, managers (and
resellers) a manager may filter by, in one written-out query, kept a few
seconds per process."""

from collections.abc import Sequence
from dataclasses import dataclass

from django.conf import settings
from django.core.cache import cache
from django.db import connections, router

from rules.models import ClientType, ServiceRule
from users.models import Manager, Reseller, User


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
