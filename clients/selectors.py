"""Reads about clients, always scoped to the reseller of the signed-in manager."""

import uuid

from django.db.models import Prefetch, QuerySet
from django.http import Http404

from clients.models import AccessLevel, Client, ClientAccess, ClientStatus
from users.models import Manager


def client_queryset_for_manager(*, manager: Manager) -> QuerySet[Client]:
    """Every client the manager may see: their reseller's; the root reseller's
    staff see all resellers'."""
    clients = Client.objects.all()
    if not manager.reseller.is_root:
        clients = clients.filter(reseller_id=manager.reseller_id)
    return clients


def client_list(*, manager: Manager) -> QuerySet[Client]:
    """The client list: not deleted, newest first, with what each row shows."""
    owner_accesses = ClientAccess.objects.filter(level=AccessLevel.OWNER).select_related("user")
    return (
        client_queryset_for_manager(manager=manager)
        .exclude(status=ClientStatus.DELETED)
        .select_related("client_type", "service_rule", "manager__user", "reseller")
        .prefetch_related(Prefetch("accesses", queryset=owner_accesses, to_attr="owner_accesses"))
        .order_by("-created_at", "-id")
    )


def client_get(*, manager: Manager, client_id: int) -> Client:
    """One client of the manager's reseller; another reseller's answers 404."""
    try:
        return (
            client_queryset_for_manager(manager=manager)
            .select_related("client_type", "service_rule", "manager__user", "reseller")
            .get(pk=client_id)
        )
    except Client.DoesNotExist as error:
        raise Http404("No such client.") from error


def client_created_from_page(*, manager: Manager, token: uuid.UUID) -> Client | None:
    """The client an Add client page with this one-time token already made,
    among those the manager may see."""
    return client_queryset_for_manager(manager=manager).filter(creation_token=token).first()
