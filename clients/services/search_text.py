"""The client list's search text (clients/search.py), written again where
it differs from its parts."""

from collections.abc import Iterable

from django.db import connection, transaction
from django.db.models import OuterRef, Subquery

from clients.models import AccessLevel, Client, ClientAccess
from clients.search import search_text

# Clients read and written at a time by client_search_text_refresh.
SEARCH_TEXT_REFRESH_BATCH = 5_000


def client_search_text_refresh(*, client_ids: Iterable[int] | None = None) -> int:
    """Write the list's search text (clients/search.py) again from each
    client's name, phone and current owner's email, where it differs: for the
    given clients, or for all of them. The pages' services keep it as they
    write; this is for an owner's email changed in Django admin and for rows
    loaded by hand (``manage.py client_search_rebuild``). Batch by batch in
    key order, each batch one transaction: its clients' rows are locked
    first and read after, so that a transfer or an edit of one of them that
    was under way is waited for and its result read, not written over with
    what was there before it. Returns how many were written."""
    clients = Client.objects.order_by("pk")
    if client_ids is not None:
        clients = clients.filter(pk__in=list(client_ids))
    owner_email = ClientAccess.objects.filter(client=OuterRef("pk"), level=AccessLevel.OWNER)
    rows = Client.objects.annotate(
        owner_email=Subquery(owner_email.values("user__email")[:1])
    ).values_list("pk", "name", "phone", "owner_email", "search_text")
    table = connection.ops.quote_name(Client._meta.db_table)
    statement = f"UPDATE {table} SET search_text = %s WHERE id = %s"  # noqa: S608 - a table name
    written, last = 0, 0
    while True:
        with transaction.atomic():
            locked = list(
                clients.filter(pk__gt=last)
                .select_for_update()
                .values_list("pk", flat=True)[:SEARCH_TEXT_REFRESH_BATCH]
            )
            if not locked:
                return written
            # A second statement: it sees what committed while the lock waited.
            changed = []
            for pk, name, phone, email, stored in rows.filter(pk__in=locked):
                text = search_text(name=name, phone=phone, owner_email=email)
                if text != stored:
                    changed.append((text, pk))
            if changed:
                with connection.cursor() as cursor:
                    cursor.executemany(statement, changed)
        written += len(changed)
        last = locked[-1]
