"""Reads about users, resellers and managers."""

from django.db.models import Q, QuerySet

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


OWNER_SEARCH_MIN_LENGTH = 2
OWNER_SEARCH_LIMIT = 20
OWNER_SEARCH_MAX_WORDS = 4
OWNER_SEARCH_MAX_WORD_LENGTH = 100


def user_list_reachable(*, reseller: Reseller) -> QuerySet[User]:
    """Users a reseller's manager may make a client's owner: users with access
    to one of the reseller's clients; the root reseller reaches every user."""
    users = User.objects.filter(is_active=True)
    if not reseller.is_root:
        users = users.filter(client_accesses__client__reseller=reseller).distinct()
    return users


def owner_search(*, reseller: Reseller, query: str) -> list[User]:
    """Reachable users whose name or email contains every word of the query;
    nothing for fewer than two characters, at most twenty, by name."""
    words = query.replace("\x00", "").split()
    if len(" ".join(words)) < OWNER_SEARCH_MIN_LENGTH:
        return []
    users = user_list_reachable(reseller=reseller)
    # A person types a name and a surname; a pasted essay must not build a
    # query the database refuses.
    for word in words[:OWNER_SEARCH_MAX_WORDS]:
        word = word[:OWNER_SEARCH_MAX_WORD_LENGTH]
        # SQLite's LIKE folds the case of ASCII letters only: try the usual
        # spellings of a Cyrillic word too (ирина, Ирина, ИРИНА).
        condition = Q()
        for variant in {word, word.lower(), word.capitalize(), word.upper()}:
            condition |= (
                Q(email__icontains=variant)
                | Q(first_name__icontains=variant)
                | Q(middle_name__icontains=variant)
                | Q(last_name__icontains=variant)
            )
        users = users.filter(condition)
    return list(users.order_by("last_name", "first_name", "email")[:OWNER_SEARCH_LIMIT])
