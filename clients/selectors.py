"""Reads about clients, always scoped to the reseller of the signed-in manager."""

import datetime as dt
import re
import uuid
from dataclasses import dataclass

from django.db.models import (
    Case,
    Exists,
    F,
    IntegerField,
    OrderBy,
    OuterRef,
    Prefetch,
    Q,
    QuerySet,
    Subquery,
    Value,
    When,
)
from django.http import Http404
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext

from clients.models import (
    AccessLevel,
    Client,
    ClientAccess,
    ClientAttributeValue,
    ClientEvent,
    ClientStatus,
)
from rules.models import AttributeValueType, ClientType, ServiceRule
from users.models import Manager, Reseller


def client_queryset_for_manager(*, manager: Manager) -> QuerySet[Client]:
    """Every client the manager may see: their reseller's; the root reseller's
    staff see all resellers'."""
    clients = Client.objects.all()
    if not manager.reseller.is_root:
        clients = clients.filter(reseller_id=manager.reseller_id)
    return clients


@dataclass(frozen=True, kw_only=True)
class ClientListFilters:
    """What the client list is narrowed to; an empty value does not narrow."""

    search: str = ""
    statuses: tuple[str, ...] = ()
    client_type: ClientType | None = None
    service_rule: ServiceRule | None = None
    manager: Manager | None = None
    reseller: Reseller | None = None
    created_from: dt.date | None = None
    created_to: dt.date | None = None


# Sort keys of the client list (the `sort` URL parameter, "-" for descending)
# and the columns each sorts by; the ID is always the last tie-breaker.
CLIENT_LIST_SORTS: dict[str, tuple[str, ...]] = {
    "id": (),
    "name": ("name",),
    "status": ("status",),
    "rule": ("service_rule__name",),
    "type": ("client_type__name",),
    "manager": ("manager__user__last_name", "manager__user__first_name"),
    "country": ("country",),
    "city": ("city",),
    "phone": ("phone",),
    "owner": ("owner_last_name", "owner_first_name"),
    "owner_email": ("owner_email",),
    "created": ("created_at",),
    "postpay": ("postpay_permission",),
    "reseller": ("reseller__name",),
}
CLIENT_LIST_DEFAULT_SORT = "-created"


def _owner_field(field: str) -> Subquery:
    owner = ClientAccess.objects.filter(client=OuterRef("pk"), level=AccessLevel.OWNER)
    return Subquery(owner.values(f"user__{field}")[:1])


def _search_condition(search: str) -> Q:
    """ID (exact), name, owner email, phone and INN."""
    condition = Q(name__icontains=search) | Q(company_name__icontains=search)
    condition |= Exists(
        ClientAccess.objects.filter(
            client=OuterRef("pk"), level=AccessLevel.OWNER, user__email__icontains=search
        )
    )
    if any(character.isdigit() for character in search):
        number = search.removeprefix("#")
        # 18 digits stay inside a bigint on every database.
        if number.isdigit() and len(number) <= 18:
            condition |= Q(pk=int(number))
        # Phones are kept as +79161234567: look past the spaces, dashes and
        # brackets people type.
        phone = re.sub(r"[\s().-]", "", search)
        if phone:
            condition |= Q(phone__icontains=phone)
        condition |= Exists(
            ClientAttributeValue.objects.filter(
                client=OuterRef("pk"), attribute__key="inn", value__icontains=search
            )
        )
    return condition


def _day_start(day: dt.date) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(day, dt.time.min))


def client_list(
    *,
    manager: Manager,
    filters: ClientListFilters | None = None,
    sort: str = CLIENT_LIST_DEFAULT_SORT,
) -> QuerySet[Client]:
    """The client list, filtered and sorted, with what each row shows.

    Deleted clients are left out unless the filter asks for that status. An
    unknown sort key falls back to the default (newest first)."""
    filters = filters or ClientListFilters()
    clients = client_queryset_for_manager(manager=manager)

    if filters.statuses:
        clients = clients.filter(status__in=filters.statuses)
    else:
        clients = clients.exclude(status=ClientStatus.DELETED)
    if filters.search:
        clients = clients.filter(_search_condition(filters.search))
    if filters.client_type is not None:
        clients = clients.filter(client_type=filters.client_type)
    if filters.service_rule is not None:
        clients = clients.filter(service_rule=filters.service_rule)
    if filters.manager is not None:
        clients = clients.filter(manager=filters.manager)
    if filters.reseller is not None:
        clients = clients.filter(reseller=filters.reseller)
    # Whole days of the panel's time zone.
    if filters.created_from is not None:
        clients = clients.filter(created_at__gte=_day_start(filters.created_from))
    if filters.created_to is not None:
        clients = clients.filter(
            created_at__lt=_day_start(filters.created_to + dt.timedelta(days=1))
        )

    key = sort.removeprefix("-")
    if key not in CLIENT_LIST_SORTS:
        key, sort = CLIENT_LIST_DEFAULT_SORT.removeprefix("-"), CLIENT_LIST_DEFAULT_SORT
    descending = sort.startswith("-")
    if key == "owner":
        clients = clients.annotate(
            owner_last_name=_owner_field("last_name"), owner_first_name=_owner_field("first_name")
        )
    elif key == "owner_email":
        clients = clients.annotate(owner_email=_owner_field("email"))
    # Empty values (no manager, no owner) go last both ways, on every database.
    ordering: list[OrderBy] = [
        F(column).desc(nulls_last=True) if descending else F(column).asc(nulls_last=True)
        for column in CLIENT_LIST_SORTS[key]
    ]
    ordering.append(F("pk").desc() if descending else F("pk").asc())

    owner_accesses = ClientAccess.objects.filter(level=AccessLevel.OWNER).select_related("user")
    return (
        clients.select_related("client_type", "service_rule", "manager__user", "reseller")
        .prefetch_related(Prefetch("accesses", queryset=owner_accesses, to_attr="owner_accesses"))
        .order_by(*ordering)
    )


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
                "postpay_decided_by",
                "created_by",
            )
            .get(pk=client_id)
        )
    except Client.DoesNotExist as error:
        raise Http404("No such client.") from error


@dataclass(frozen=True, kw_only=True)
class ClientListChoices:
    """What the client list's filters offer the manager, scoped like the list."""

    client_types: QuerySet[ClientType]
    service_rules: QuerySet[ServiceRule]
    managers: QuerySet[Manager]
    resellers: QuerySet[Reseller] | None  # only for the root reseller's staff


def client_list_choices(*, manager: Manager) -> ClientListChoices:
    """The types, rules and managers of the manager's reseller (every
    reseller's, with the resellers themselves, for the root reseller's staff).
    Inactive managers stay: clients may still be theirs."""
    client_types = ClientType.objects.select_related("reseller").order_by("name", "pk")
    service_rules = ServiceRule.objects.select_related("reseller").order_by("name", "pk")
    managers = Manager.objects.select_related("user", "reseller").order_by(
        "user__last_name", "user__first_name", "user__email", "pk"
    )
    resellers = None
    if manager.reseller.is_root:
        resellers = Reseller.objects.order_by("name", "pk")
    else:
        client_types = client_types.filter(reseller_id=manager.reseller_id)
        service_rules = service_rules.filter(reseller_id=manager.reseller_id)
        managers = managers.filter(reseller_id=manager.reseller_id)
    return ClientListChoices(
        client_types=client_types,
        service_rules=service_rules,
        managers=managers,
        resellers=resellers,
    )


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
    """One line of "Additional information" on the client page."""

    name: str
    value_type: str
    value: str
    display: str


def client_attribute_rows(*, client: Client) -> list[AttributeRow]:
    """The client's attribute values by attribute weight, ready to show:
    a list option by its name, a checkbox as yes/no, a password hidden."""
    values = (
        ClientAttributeValue.objects.filter(client=client)
        .select_related("attribute")
        .prefetch_related("attribute__options")
        .order_by("attribute__weight", "attribute__name", "pk")
    )
    rows = []
    for item in values:
        attribute = item.attribute
        display = item.value
        if attribute.value_type == AttributeValueType.CHECKBOX:
            display = gettext("Yes") if item.value else gettext("No")
        elif attribute.value_type == AttributeValueType.PASSWORD:
            display = "••••••" if item.value else ""
        elif attribute.value_type == AttributeValueType.LIST:
            names = {option.key: option.name for option in attribute.options.all()}
            display = names.get(item.value, item.value)
        elif attribute.value_type == AttributeValueType.DATE and item.value:
            try:
                day = dt.date.fromisoformat(item.value)
            except ValueError:
                pass
            else:
                display = date_format(day, "SHORT_DATE_FORMAT")
        rows.append(
            AttributeRow(
                name=attribute.name,
                value_type=attribute.value_type,
                value=item.value,
                display=display,
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


def client_created_from_page(*, manager: Manager, token: uuid.UUID) -> Client | None:
    """The client an Add client page with this one-time token already made,
    among those the manager may see."""
    return client_queryset_for_manager(manager=manager).filter(creation_token=token).first()
