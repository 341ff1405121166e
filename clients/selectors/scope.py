"""The one gate: which clients and resellers a manager reaches."""

from django.db.models import QuerySet

from clients.models import Client
from users.models import Manager, Reseller
from users.selectors import reseller_reach


def reseller_in_reach(*, manager: Manager, reseller: Reseller) -> bool:
    """Whether the manager may act for the reseller: their own, any reseller
    downstream of it (users.selectors.reseller_reach; the API creates
    clients of those), every one for the root reseller's staff. The panel's
    pages list the manager's own reseller's clients
    (client_queryset_for_manager)."""
    if manager.reseller.is_root or manager.reseller_id == reseller.pk:
        return True
    return reseller_reach(reseller=manager.reseller).filter(pk=reseller.pk).exists()


def client_queryset_for_manager(*, manager: Manager) -> QuerySet[Client]:
    """Every client the manager may see: their reseller's; the root reseller's
    staff see all resellers' (reseller_in_reach)."""
    clients = Client.objects.all()
    if not manager.reseller.is_root:
        clients = clients.filter(reseller_id=manager.reseller_id)
    return clients
