"""The one map between the API's attribute names and the Add client page's
sections: read one way to build ``client_create``'s arguments, the other way
to point each of its errors ("contacts.city") at the body
(``/data/attributes/city``). Lengths come from the model columns, as the
page's forms take them."""

from dataclasses import dataclass

from django.db import models

from clients.inputs import column_length
from clients.models import Client
from users.models import User


@dataclass(frozen=True)
class ApiField:
    api: str  # the attribute's path in data.attributes ("owner.email")
    target: str  # the "section.field" of client_create's errors
    column: tuple[type[models.Model], str] | None = None  # the column whose length it shares

    @property
    def pointer(self) -> str:
        return "/data/attributes/" + self.api.replace(".", "/")


def _column(model: type[models.Model], name: str) -> tuple[type[models.Model], str]:
    return model, name


API_FIELDS: tuple[ApiField, ...] = (
    ApiField("account_type_id", "client_info.client_type"),
    ApiField("primary_name", "client_info.company_name", _column(Client, "company_name")),
    ApiField("service_rule_id", "client_info.service_rule"),
    ApiField("manager_id", "client_info.manager"),
    ApiField("postpay_permission", "client_info.postpay_permission"),
    ApiField("country", "contacts.country"),
    ApiField("region", "contacts.region", _column(Client, "region")),
    ApiField("city", "contacts.city", _column(Client, "city")),
    ApiField("postal_code", "contacts.postal_code", _column(Client, "postal_code")),
    ApiField("address_line1", "contacts.address_line1", _column(Client, "address_line1")),
    ApiField("address_line2", "contacts.address_line2", _column(Client, "address_line2")),
    ApiField("phone", "contacts.phone", _column(Client, "phone")),
    ApiField("contact_email", "contacts.email", _column(Client, "email")),
    ApiField("first_name", "contract_person.first_name", _column(Client, "contract_first_name")),
    ApiField("middle_name", "contract_person.middle_name", _column(Client, "contract_middle_name")),
    ApiField("last_name", "contract_person.last_name", _column(Client, "contract_last_name")),
    ApiField("email", "contract_person.email", _column(Client, "contract_email")),
    ApiField("owner_id", "owner.user"),
    ApiField("owner.first_name", "owner.new_first_name", _column(User, "first_name")),
    ApiField("owner.middle_name", "owner.new_middle_name", _column(User, "middle_name")),
    ApiField("owner.last_name", "owner.new_last_name", _column(User, "last_name")),
    ApiField("owner.email", "owner.new_email", _column(User, "email")),
    ApiField("terms_accepted", "agreements.accepted"),
)
BY_API = {field.api: field for field in API_FIELDS}
BY_TARGET = {field.target: field for field in API_FIELDS}
# Attributes the API takes that are no field of the page.
API_ONLY = ("manager_key", "custom_attributes", "owner")
ATTRIBUTE_NAMES = frozenset({field.api.split(".")[0] for field in API_FIELDS} | set(API_ONLY))
OWNER_NAMES = frozenset(
    field.api.removeprefix("owner.") for field in API_FIELDS if field.api.startswith("owner.")
)


def max_length_of(api: str) -> int | None:
    """The attribute's longest value, the page's and the service's limit
    (``clients.inputs.column_length``), for the OpenAPI document."""
    column = BY_API[api].column
    return column_length(*column) if column is not None else None


def pointer_for(target: str, *, attribute_positions: dict[str, int]) -> str:
    """Where an error of ``client_create`` keyed ``target`` points in the body:
    a mapped field's attribute, a custom attribute's value by its position in
    the request, the data as a whole otherwise."""
    field = BY_TARGET.get(target)
    if field is not None:
        return field.pointer
    section, _dot, name = target.partition(".")
    if section == "attributes":
        if name in attribute_positions:
            return f"/data/attributes/custom_attributes/{attribute_positions[name]}/value"
        return "/data/attributes/custom_attributes"
    if section == "owner":
        return "/data/attributes/owner"
    return "/data/attributes" if section else "/data"
