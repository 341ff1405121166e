"""One client: its page's reads (users, attributes, events), the actions it
offers, and the owner's terms."""

import uuid
from dataclasses import dataclass

from django.db.models import Case, IntegerField, QuerySet, Value, When
from django.http import Http404

from clients.models import (
    AccessLevel,
    Client,
    ClientAccess,
    ClientAttributeValue,
    ClientEvent,
    ClientStatus,
    PostpayPermission,
    TermsStatus,
)
from clients.selectors.owners import owner_search
from clients.selectors.scope import client_queryset_for_manager
from rules.models import AttributeValueType, ClientType
from users.models import Manager, User


def client_get(*, manager: Manager, client_id: int) -> Client:
    """One client of the manager's reseller; another reseller's answers 404."""
    try:
        return (
            client_queryset_for_manager(manager=manager)
            .select_related(
                "client_type",
                "service_rule",
                "manager__user",
                "reseller",
                "terms_accepted_by__user",
                "terms_accepted_by_owner",
                "postpay_decided_by",
                "created_by",
            )
            .get(pk=client_id)
        )
    except Client.DoesNotExist as error:
        raise Http404("No such client.") from error


def client_access_list(*, client: Client) -> QuerySet[ClientAccess]:
    """The client's users with their access levels, the Owner first."""
    level_order = Case(
        *(When(level=level, then=Value(position)) for position, level in enumerate(AccessLevel)),
        default=Value(len(AccessLevel)),
        output_field=IntegerField(),
    )
    return (
        ClientAccess.objects.filter(client=client)
        .select_related("user")
        .alias(level_order=level_order)
        .order_by("level_order", "user__email", "pk")
    )


@dataclass(frozen=True, kw_only=True)
class AttributeRow:
    """One line of "Additional information" on the client page: the stored
    value and, for a list, the chosen option's name (the template tag
    ``attribute_value`` words it for the reader)."""

    name: str
    value_type: str
    value: str
    option_name: str = ""


def client_attribute_rows(*, client: Client) -> list[AttributeRow]:
    """The client's attribute values by attribute weight."""
    values = (
        ClientAttributeValue.objects.filter(client=client)
        .select_related("attribute")
        .prefetch_related("attribute__options")
        .order_by("attribute__weight", "attribute__name", "pk")
    )
    rows = []
    for item in values:
        attribute = item.attribute
        option_name = ""
        if attribute.value_type == AttributeValueType.LIST:
            names = {option.key: option.name for option in attribute.options.all()}
            option_name = names.get(item.value, "")
        rows.append(
            AttributeRow(
                name=attribute.name,
                value_type=attribute.value_type,
                value=item.value,
                option_name=option_name,
            )
        )
    return rows


def client_event_list(*, client: Client) -> QuerySet[ClientEvent]:
    """The client's event log, newest first, with who did it (None = System)."""
    return (
        ClientEvent.objects.filter(client=client)
        .select_related("actor")
        .order_by("-created_at", "-id")
    )


def client_created_with_token(*, token: uuid.UUID) -> Client | None:
    """The client already created with this one-time token (of an Add client
    page), whichever reseller's: the caller compares the reseller."""
    return Client.objects.filter(creation_token=token).first()


# Where a manager may move a client from each status (DESIGN.md, "Statuses").
# Credit hold is never a manager's target: only the system sets it, through
# services.client_set_credit_hold. Deleted is final.
STATUS_TRANSITIONS: dict[str, frozenset[str]] = {
    ClientStatus.ACTIVE: frozenset({ClientStatus.ADMINISTRATIVE_HOLD, ClientStatus.DELETED}),
    ClientStatus.CREDIT_HOLD: frozenset(
        {ClientStatus.ACTIVE, ClientStatus.ADMINISTRATIVE_HOLD, ClientStatus.DELETED}
    ),
    ClientStatus.ADMINISTRATIVE_HOLD: frozenset({ClientStatus.ACTIVE, ClientStatus.DELETED}),
    ClientStatus.DELETED: frozenset(),
}
POSTPAY_UNDECIDED = frozenset({PostpayPermission.NOT_VERIFIED, PostpayPermission.APPROVAL_REQUIRED})


def client_status_targets(*, client: Client) -> list[ClientStatus]:
    """The statuses a manager may move the client to now, in ClientStatus order."""
    allowed = STATUS_TRANSITIONS.get(client.status, frozenset())
    return [status for status in ClientStatus if status in allowed]


def client_postpay_can_decide(*, client: Client) -> bool:
    """Whether a manager may still approve or decline the client's postpay:
    only while the reseller decides by hand, and only once."""
    return (
        client.reseller.postpay_is_manual
        and client.postpay_decided_at is None
        and client.postpay_permission in POSTPAY_UNDECIDED
    )


def client_list_awaiting_owner_terms(*, user: User) -> list[Client]:
    """The clients this user owns whose terms wait for the owner to accept
    them (not deleted), with their resellers, for the password-setup page."""
    return list(
        Client.objects.filter(
            accesses__user=user, accesses__level=AccessLevel.OWNER, terms_status=TermsStatus.PENDING
        )
        .exclude(status=ClientStatus.DELETED)
        .select_related("reseller")
        .order_by("pk")
    )


def client_access_for_user(*, client: Client, user_id: int) -> ClientAccess | None:
    """The user's access to the client, with the user, or None."""
    return (
        ClientAccess.objects.select_related("user").filter(client=client, user_id=user_id).first()
    )


def client_owner_access(*, client: Client) -> ClientAccess | None:
    return (
        ClientAccess.objects.select_related("user")
        .filter(client=client, level=AccessLevel.OWNER)
        .first()
    )


@dataclass(frozen=True)
class UserCandidate:
    """A user found by the Add a user page's search, and their level in the
    client when they have access already (then they cannot be chosen)."""

    user: User
    level_label: str | None


def client_user_candidates(*, client: Client, query: str) -> list[UserCandidate]:
    """The users who may be given access to the client whose name or email
    matches the query: the owner picker's search (``owner_search`` for the
    client's reseller: reachable, no panel people, at least three characters,
    at most twenty), each with their level in this client when they have one."""
    users = owner_search(reseller=client.reseller, query=query)
    levels = dict(
        ClientAccess.objects.filter(client=client, user__in=users).values_list("user_id", "level")
    )
    labels = dict(AccessLevel.choices)
    return [
        UserCandidate(user=user, level_label=labels[levels[user.pk]] if user.pk in levels else None)
        for user in users
    ]


def client_attribute_values(*, client: Client) -> dict[str, str]:
    """The client's stored attribute values by attribute key, as text."""
    return dict(
        ClientAttributeValue.objects.filter(client=client).values_list("attribute__key", "value")
    )


def client_hidden_values_lost(*, client: Client, client_type: ClientType) -> list[str]:
    """The names of the client's attributes that the client pages do not show
    (read-only for admin), hold a value, and do not belong to ``client_type``:
    what a change to that type would lose unseen."""
    return list(
        ClientAttributeValue.objects.filter(client=client, attribute__read_only_for_admin=True)
        .exclude(value="")
        .exclude(attribute__client_types=client_type)
        .order_by("attribute__weight", "attribute__name")
        .values_list("attribute__name", flat=True)
    )
