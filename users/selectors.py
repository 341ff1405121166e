"""Reads about users, resellers and managers."""

from django.conf import settings
from django.db import connections
from django.db.models import Exists, OuterRef, Q, QuerySet
from django.db.models.expressions import RawSQL

from users.models import Manager, ManagerStatus, Reseller, User


def manager_for_user(*, user: User) -> Manager | None:
    """The signed-in user's active manager record, with its reseller, or None."""
    if not user.is_authenticated:
        return None
    try:
        manager = Manager.objects.select_related("reseller", "user").get(user=user)
    except Manager.DoesNotExist:
        return None
    return manager if manager.status == ManagerStatus.ACTIVE else None


def reseller_root() -> Reseller | None:
    return Reseller.objects.filter(parent__isnull=True).first()


def manager_list_active(*, reseller: Reseller) -> QuerySet[Manager]:
    """The reseller's active managers, the only ones a client can be given to."""
    return (
        Manager.objects.filter(reseller=reseller, status=ManagerStatus.ACTIVE)
        .select_related("user")
        .order_by("user__last_name", "user__first_name", "user__email")
    )


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
    from clients.models import ClientAccess

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


def _panel_people() -> Q:
    """Staff, superusers and panel managers (a user with a Manager row)."""
    return (
        Q(is_staff=True)
        | Q(is_superuser=True)
        | Q(Exists(Manager.objects.filter(user=OuterRef("pk"))))
    )


def user_may_own_clients(*, user: User) -> bool:
    """Whether the user may be made a client's owner: not staff, a superuser
    or a panel manager, unless OWNERS_MAY_BE_STAFF allows it. The owner gets
    the client's emails and, without a password yet, a password-setup link;
    the panel's own people sign in elsewhere and are nobody's customer."""
    if settings.OWNERS_MAY_BE_STAFF:
        return True
    return not (user.is_staff or user.is_superuser or Manager.objects.filter(user=user).exists())


def user_list_owner_candidates(*, reseller: Reseller) -> QuerySet[User]:
    """Users a reseller's manager may make a client's owner: the reachable
    ones that ``user_may_own_clients`` admits."""
    users = user_list_reachable(reseller=reseller)
    if not settings.OWNERS_MAY_BE_STAFF:
        users = users.exclude(_panel_people())
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
        matches = matches.exclude(_panel_people())  # as user_list_owner_candidates
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
