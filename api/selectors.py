"""Reads of the reseller API, each scoped to a reseller the caller already
reached through ``users.selectors.reseller_get_reachable``."""

import datetime as dt
from dataclasses import dataclass
from urllib.parse import quote

from django.db.models import FilteredRelation, Prefetch, Q, QuerySet

from api.models import ApiToken, StorefrontLink
from clients.models import AccessLevel, Client, ClientAccess, ClientAttributeValue, ClientStatus
from clients.selectors import client_list_cursor
from clients.selectors.list_search import _inn_client_ids
from clients.selectors.listing import _encode_cursor, _Sort
from rules.models import Attribute, AttributeOption, AttributeValueType, ClientType, ServiceRule
from users.models import Manager, Reseller
from users.selectors import manager_list_active

# The API's order: newest first, the ID breaking ties; the client list's
# default sort, served by the (reseller_id, created_at, id) index.
ACCOUNT_SORT = "-created"
_BIGINT_MAX = 2**63 - 1


@dataclass(frozen=True, kw_only=True)
class AccountFilters:
    """The list's filters; an empty value does not narrow."""

    emails: tuple[str, ...] = ()
    user_email: str = ""
    inn: str = ""
    created_after: dt.datetime | None = None
    created_before: dt.datetime | None = None
    statuses: tuple[str, ...] = ()


class BadCursor(Exception):
    """A ``page[after]`` that this API did not make for this order."""


@dataclass(frozen=True, kw_only=True)
class AccountPage:
    accounts: list[dict]
    next_cursor: str | None


def _accounts(*, reseller: Reseller, filters: AccountFilters) -> QuerySet[Client]:
    clients = Client.objects.filter(reseller=reseller)
    if filters.statuses:
        clients = clients.filter(status__in=filters.statuses)
    else:
        # As on the client list: Deleted clients only when asked for.
        clients = clients.exclude(status=ClientStatus.DELETED)
    if filters.emails:
        condition = Q()
        for email in filters.emails:
            condition |= Q(contract_email__iexact=email)
        clients = clients.filter(condition)
    if filters.user_email:
        clients = clients.filter(
            pk__in=ClientAccess.objects.filter(user__email__iexact=filters.user_email).values(
                "client_id"
            )
        )
    if filters.inn:
        clients = clients.filter(pk__in=_inn_client_ids(filters.inn))
    if filters.created_after is not None:
        clients = clients.filter(created_at__gt=filters.created_after)
    if filters.created_before is not None:
        clients = clients.filter(created_at__lt=filters.created_before)
    return clients


_COLUMNS = (
    "pk",
    "reseller_id",
    "name",
    "company_name",
    "client_type_id",
    "status",
    "service_rule_id",
    "manager_id",
    "postpay_permission",
    "terms_status",
    "contract_first_name",
    "contract_middle_name",
    "contract_last_name",
    "contract_email",
    "country",
    "region",
    "city",
    "postal_code",
    "address_line1",
    "address_line2",
    "phone",
    "email",
    "created_at",
    "owner_access__user_id",
    "owner_access__user__email",
)


def _rows(clients: QuerySet[Client], *, limit: int | None = None, offset: int = 0) -> list:
    owner = FilteredRelation("accesses", condition=Q(accesses__level=AccessLevel.OWNER))
    query = clients.alias(owner_access=owner).values_list(*_COLUMNS)
    return list(query[offset : offset + limit] if limit is not None else query)


def _custom_attributes(client_ids: list[int]) -> dict[int, list[dict]]:
    """Each client's attribute values by attribute weight; passwords are
    never given out."""
    values = (
        ClientAttributeValue.objects.filter(client_id__in=client_ids)
        .exclude(attribute__value_type=AttributeValueType.PASSWORD)
        .order_by("client_id", "attribute__weight", "attribute__key")
        .values_list("client_id", "attribute__key", "value")
    )
    result: dict[int, list[dict]] = {pk: [] for pk in client_ids}
    for client_id, key, value in values:
        result[client_id].append({"key": key, "value": value})
    return result


def _resource(row: tuple, attributes: list[dict]) -> dict:
    (
        pk,
        reseller_id,
        name,
        company_name,
        client_type_id,
        status,
        service_rule_id,
        manager_id,
        postpay_permission,
        terms_status,
        first_name,
        middle_name,
        last_name,
        contract_email,
        country,
        region,
        city,
        postal_code,
        address_line1,
        address_line2,
        phone,
        email,
        created_at,
        owner_id,
        owner_email,
        *_sort,
    ) = row
    return {
        "id": str(pk),
        "type": "accounts",
        "attributes": {
            "reseller_id": reseller_id,
            "name": name,
            "primary_name": company_name,
            "account_type_id": client_type_id,
            "status": status,
            "service_rule_id": service_rule_id,
            "manager_id": manager_id,
            "postpay_permission": postpay_permission,
            "terms_status": terms_status,
            "first_name": first_name,
            "middle_name": middle_name,
            "last_name": last_name,
            "email": contract_email,
            "country": str(country),
            "region": region,
            "city": city,
            "postal_code": postal_code,
            "address_line1": address_line1,
            "address_line2": address_line2,
            "phone": phone,
            "contact_email": email,
            "owner_id": owner_id,
            "owner_email": owner_email,
            "created_at": created_at.isoformat(),
            "custom_attributes": attributes,
        },
    }


def account_list_page(
    *,
    reseller: Reseller,
    filters: AccountFilters,
    size: int,
    after: str = "",
    number: int | None = None,
) -> AccountPage:
    """One page of the reseller's accounts, newest first: after the
    ``after`` cursor (a seek on the index, the same cost at any depth), or
    page ``number`` (an OFFSET, for clients written for the platform; the
    view caps how deep). Two queries: the rows with their owner, then their
    attribute values. A cursor not made here raises BadCursor."""
    order = _Sort.parse(ACCOUNT_SORT)
    clients = order.annotate(_accounts(reseller=reseller, filters=filters))
    if after:
        values = client_list_cursor(after, sort=ACCOUNT_SORT)
        # Both columns are NOT NULL, and the ID must fit a bigint.
        if not values or None in values or not 0 < values[-1] <= _BIGINT_MAX:
            raise BadCursor
        clients = clients.filter(order.after(values))
    clients = clients.order_by(*order.ordering())
    offset = (number - 1) * size if number else 0
    owner = FilteredRelation("accesses", condition=Q(accesses__level=AccessLevel.OWNER))
    rows = list(
        clients.alias(owner_access=owner).values_list(*_COLUMNS, *order.names[:-1])[
            offset : offset + size + 1
        ]
    )
    more = len(rows) > size
    rows = rows[:size]
    attributes = _custom_attributes([row[0] for row in rows])
    next_cursor = None
    if more and rows:
        last = rows[-1]
        next_cursor = _encode_cursor([*last[len(_COLUMNS) :], last[0]])
    return AccountPage(
        accounts=[_resource(row, attributes[row[0]]) for row in rows], next_cursor=next_cursor
    )


def account_get(*, reseller: Reseller, account_id: int) -> dict | None:
    """One account of the reseller (any status) as its resource, or None."""
    rows = _rows(Client.objects.filter(reseller=reseller, pk=account_id))
    if not rows:
        return None
    return _resource(rows[0], _custom_attributes([account_id])[account_id])


def account_type_list(*, reseller: Reseller) -> list[dict]:
    """The reseller's client types with the attributes the Add client page
    (and so the create endpoint) takes for each: the read-only-for-admin ones
    are left out, as on the page. Two queries whatever the number of types."""
    types = list(ClientType.objects.filter(reseller=reseller).order_by("name", "pk"))
    attributes = (
        Attribute.objects.filter(reseller=reseller, read_only_for_admin=False)
        .prefetch_related(
            Prefetch("options", queryset=AttributeOption.objects.order_by("position", "pk")),
            "client_types",
        )
        .order_by("weight", "name", "pk")
    )
    by_type: dict[int, list[dict]] = {client_type.pk: [] for client_type in types}
    for attribute in attributes:
        described = {
            "key": attribute.key,
            "name": attribute.name,
            "type": attribute.value_type,
            "required": attribute.required,
            "format": attribute.format or None,
            "default_value": attribute.default_value or None,
            "available_values": [
                {"key": option.key, "name": option.name} for option in attribute.options.all()
            ],
            "weight": attribute.weight,
        }
        for client_type in attribute.client_types.all():
            if client_type.pk in by_type:
                by_type[client_type.pk].append(described)
    return [
        {
            "id": str(client_type.pk),
            "type": "account_types",
            "attributes": {
                "key": client_type.key,
                "name": client_type.name,
                "primary_name": client_type.primary_name or None,
                "name_pattern": client_type.name_pattern,
                "is_default": client_type.is_default,
                "attributes": by_type[client_type.pk],
            },
        }
        for client_type in types
    ]


def service_rule_list(*, reseller: Reseller) -> list[dict]:
    """The reseller's service rules as resources."""
    return [
        {
            "id": str(rule.pk),
            "type": "service_rules",
            "attributes": {
                "key": rule.key,
                "name": rule.name,
                "colour": rule.colour,
                "default_payment_model": rule.default_payment_model,
                "is_default": rule.is_default,
            },
        }
        for rule in ServiceRule.objects.filter(reseller=reseller).order_by("name", "pk")
    ]


def manager_list(*, reseller: Reseller) -> list[dict]:
    """The reseller's Active managers (the only ones a client can be given
    to), with the keys a storefront passes as ``manager_key``."""
    return [_manager_resource(manager) for manager in manager_list_active(reseller=reseller)]


def _manager_resource(manager: Manager) -> dict:
    return {
        "id": str(manager.pk),
        "type": "managers",
        "attributes": {
            "key": manager.key,
            "first_name": manager.user.first_name,
            "middle_name": manager.user.middle_name,
            "last_name": manager.user.last_name,
            "email": manager.user.email,
            "role": manager.role,
        },
    }


def manager_by_key(*, reseller: Reseller, key: str) -> Manager | None:
    """The reseller's manager with this key, whatever their status."""
    return Manager.objects.filter(reseller=reseller, key=key).select_related("user").first()


def api_token_list(*, manager: Manager) -> QuerySet[ApiToken]:
    """The manager's own tokens, newest first."""
    return ApiToken.objects.filter(manager=manager).order_by("-created_at", "-id")


def api_token_get(*, manager: Manager, token_id: int) -> ApiToken | None:
    """One of the manager's own tokens, or None."""
    return ApiToken.objects.filter(manager=manager, pk=token_id).first()


def storefront_link(*, manager: Manager) -> str | None:
    """The manager's storefront link: their reseller's template with their
    key, or None when the reseller has no template."""
    link = StorefrontLink.objects.filter(reseller_id=manager.reseller_id).first()
    if link is None:
        return None
    return link.link_template.replace("{manager_key}", quote(manager.key, safe=""))
