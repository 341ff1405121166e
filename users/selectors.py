"""Reads about users, resellers and managers. Which users a reseller reaches
through its clients (owner search) is a read about clients: clients/selectors.py."""

from django.db.models import QuerySet

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
