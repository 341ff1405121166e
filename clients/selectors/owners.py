"""Users a reseller reaches, the owner search, and whether a new owner's
email is free."""

import datetime as dt

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import connections
from django.db.models import Exists, OuterRef, Q, QuerySet, Value
from django.db.models.expressions import RawSQL
from django.db.models.functions import Lower
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from clients.models import ClientAccess, OwnerEmailCheck
from users.models import Manager, Reseller, User
from users.selectors import panel_people

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
