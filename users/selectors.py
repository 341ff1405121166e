"""Reads about users, resellers and managers. Which users a reseller reaches
through its clients (owner search) is a read about clients: clients/selectors.py."""

from django.conf import settings
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


def reseller_reach(*, reseller: Reseller) -> QuerySet[Reseller]:
    """The resellers a reseller's manager may act for: their own and every
    downstream one (children, their children…); the root reaches all. One
    recursive query, on PostgreSQL and SQLite alike."""
    if reseller.is_root:
        return Reseller.objects.all()
    sql = (
        "WITH RECURSIVE tree(id) AS (SELECT id FROM users_reseller WHERE id = %s UNION "
        "SELECT child.id FROM users_reseller child JOIN tree ON child.parent_id = tree.id) "
        "SELECT id FROM tree"
    )
    tree = RawSQL(sql, (reseller.pk,))  # noqa: S611
    return Reseller.objects.filter(pk__in=tree)


def reseller_get_reachable(*, manager: Manager, reseller_id: int) -> Reseller | None:
    """The reseller with this ID when the manager reaches it, else None (the
    caller answers 404: another reseller's existence is not told)."""
    return reseller_reach(reseller=manager.reseller).filter(pk=reseller_id).first()


def manager_list_active(*, reseller: Reseller) -> QuerySet[Manager]:
    """The reseller's active managers, the only ones a client can be given to."""
    return (
        Manager.objects.filter(reseller=reseller, status=ManagerStatus.ACTIVE)
        .select_related("user")
        .order_by("user__last_name", "user__first_name", "user__email")
    )


def panel_people() -> Q:
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


def user_get_active(*, user_id: int | None) -> User | None:
    """The active user with this ID, or None; who may do what with them is
    the caller's service's decision."""
    if not user_id:
        return None
    return User.objects.filter(pk=user_id, is_active=True).first()
