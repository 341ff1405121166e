"""The text the client list's search looks in: the client's name, its phone
and its owner's email in one column (Client.search_text), each folded to one
form: NFKC, without invisible format characters, one letter case
(``str.casefold``).

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

import unicodedata

# Between the parts: never typed in a search (a fragment holding it matches
# nothing), so that a fragment cannot match the end of the name and the start
# of the phone as one.
SEPARATOR = "\x1f"
# Folding may make one character several: casefold() at most three ("ﬃ" is
# "ffi"), NFKC more for a few ligatures. Each part keeps at most this many
# times its column's length, so that the text always fits its own column.
_FOLD_GROWTH = 3
# The parts' columns: Client.name and Client.phone use the first two, and
# users.User.email is 254 long (tests/clients/test_search_text.py checks).
NAME_MAX_LENGTH, PHONE_MAX_LENGTH, EMAIL_MAX_LENGTH = 255, 20, 254
SEARCH_TEXT_MAX_LENGTH = _FOLD_GROWTH * (NAME_MAX_LENGTH + PHONE_MAX_LENGTH + EMAIL_MAX_LENGTH) + 2


def _fold(text: str) -> str:
    """One form for look-alikes: compatibility characters made plain (NFKC:
    a fullwidth "Ｅ" is "E"), invisible format characters (a zero-width
    space, a direction mark) dropped, then one letter case (casefold)."""
    plain = unicodedata.normalize("NFKC", text)
    visible = "".join(character for character in plain if unicodedata.category(character) != "Cf")
    return visible.casefold()


def search_text(*, name: str, phone: str, owner_email: str | None) -> str:
    """The stored search text of a client."""
    parts = (
        (name, NAME_MAX_LENGTH),
        (phone, PHONE_MAX_LENGTH),
        (owner_email or "", EMAIL_MAX_LENGTH),
    )
    return SEPARATOR.join(_fold(part)[: _FOLD_GROWTH * length] for part, length in parts)


def search_fragment(text: str) -> str | None:
    """A typed fragment folded like the stored text; None when it cannot be
    found in any (it holds the separator, or nothing is left of it)."""
    folded = _fold(text)
    return None if SEPARATOR in folded or not folded else folded
