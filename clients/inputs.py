"""What ``client_create`` is given: one small value per section of the Add
client page (and, from the API on, of a request's body).

These are plain values already turned from text into Python (a select's
choice into its object, a date field into a date), nothing more: whether they
are allowed is decided by ``clients.services.client_create`` alone. Its
errors are keyed ``<section>.<field>`` with the names used here, the section
being the name of the argument (``contacts.city``, ``client_info.company_name``,
``attributes.inn``); a new owner's fields are ``owner.new_<field>`` and an
existing owner is ``owner.user``, as on the page.
"""

from collections.abc import Mapping
from dataclasses import dataclass

from django.db import models

from rules.models import ClientType, ServiceRule
from users.models import Manager


def column_length(model: type[models.Model], field: str) -> int:
    """The longest text an input may hold: its column's length, the one limit
    the form (``maxlength``), the service and the API share."""
    return model._meta.get_field(field).max_length


@dataclass(frozen=True, kw_only=True)
class ClientInfo:
    """Client information: the type, its company name, manager, rule and,
    while the reseller decides postpay by hand, the postpay permission."""

    client_type: ClientType
    service_rule: ServiceRule
    company_name: str = ""
    manager: Manager | None = None
    postpay_permission: str | None = None


@dataclass(frozen=True, kw_only=True)
class Contacts:
    country: str
    city: str
    address_line1: str
    phone: str
    email: str
    region: str = ""
    postal_code: str = ""
    address_line2: str = ""


@dataclass(frozen=True, kw_only=True)
class ContractPerson:
    """The person authorised to sign the contract."""

    first_name: str
    last_name: str
    email: str
    middle_name: str = ""


@dataclass(frozen=True, kw_only=True)
class ExistingOwner:
    """A user the target reseller reaches, by ID, to become the owner."""

    user_id: int


@dataclass(frozen=True, kw_only=True)
class NewUser:
    """A person to create as a user: a new owner, or a user invited to a
    client (``client_user_invite``, whose errors are ``new_user.<field>``)."""

    first_name: str
    last_name: str
    email: str
    middle_name: str = ""


@dataclass(frozen=True, kw_only=True)
class NewOwner(NewUser):
    """The user to create as the client's owner."""


Owner = ExistingOwner | NewOwner


@dataclass(frozen=True, kw_only=True)
class Agreements:
    """Whether the manager accepted the terms on the client's behalf; read
    only when the reseller requests the agreement."""

    accepted: bool = False


# Attribute values by attribute key: text as typed, or already converted (a
# date, a bool for a checkbox). A key left out takes the attribute's default.
AttributeValues = Mapping[str, object]


# The sections in page order, as ``client_create``'s argument names.
SECTIONS = ("client_info", "contacts", "contract_person", "owner", "agreements", "attributes")
