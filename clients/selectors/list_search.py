"""The client list's search as one condition on the client table: the ID,
the folded search text (clients/search.py), the phone as typed, an INN."""

import re

from django.db.models import F, Q, QuerySet
from django.db.models.functions import Left
from django.db.models.lookups import Lookup

from clients.models import ClientAttributeValue
from clients.search import search_fragment

# Substring search needs three characters: one or two match half the table
# and no trigram index can narrow them.
SEARCH_MIN_LENGTH = 3
# An INN has 10 (organisation) or 12 (person) digits; it is matched exactly.
INN_LENGTHS = (10, 12)
# The B-tree on attribute values covers this prefix (clients/migrations/0002).
ATTRIBUTE_VALUE_INDEXED_PREFIX = 100


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
        # Invisible characters do not make a short fragment long enough.
        if folded is not None and len(folded) >= SEARCH_MIN_LENGTH:
            condition |= Q(search_text__contains=folded)
    if search.isdigit() and len(search) in INN_LENGTHS:
        condition |= Q(_InSubquery(F("pk"), _inn_client_ids(search)))
    return condition or None
