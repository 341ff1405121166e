"""The text the client list's search looks in: the client's name, its phone
and its owner's email in one column (Client.search_text), each folded to one
case with ``str.casefold``.

Kept in one column so that a search is one condition on one table: the page
reads its rows in the list's order and stops at the page's end (a fragment
that matches half the table costs no more than a rare one, which a trigram
index finds), with no UNION of one query per table to compose and plan on
every page (docs/scale.md). Folded in Python, for the stored text and the
typed fragment alike, so that both sides agree on every alphabet (SQLite's
LIKE folds ASCII only; PostgreSQL's UPPER depends on the collation).

The services write it whenever one of its parts changes: a new client, an
edit of the name or phone, an ownership transfer, an owner's email changed
in Django admin (``clients.services.client_search_text_refresh``)."""

# Between the parts: never typed in a search (a fragment holding it matches
# nothing), so that a fragment cannot match the end of the name and the start
# of the phone as one.
SEPARATOR = "\x1f"
# casefold() makes at most three characters of one ("ﬃ" is "ffi").
_FOLD_GROWTH = 3
# The parts' columns: Client.name and Client.phone use the first two, and
# users.User.email is 254 long (tests/clients/test_search_text.py checks).
NAME_MAX_LENGTH, PHONE_MAX_LENGTH, EMAIL_MAX_LENGTH = 255, 20, 254
SEARCH_TEXT_MAX_LENGTH = _FOLD_GROWTH * (NAME_MAX_LENGTH + PHONE_MAX_LENGTH + EMAIL_MAX_LENGTH) + 2


def search_text(*, name: str, phone: str, owner_email: str | None) -> str:
    """The stored search text of a client."""
    return SEPARATOR.join(part.casefold() for part in (name, phone, owner_email or ""))


def search_fragment(text: str) -> str | None:
    """A typed fragment folded like the stored text; None when it cannot be
    found in any (it holds the separator)."""
    folded = text.casefold()
    return None if SEPARATOR in folded else folded
