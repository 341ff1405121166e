"""Reads about what a reseller's admins configured: client types, service
rules, attributes and the installation's account validation settings."""

from django.db.models import Prefetch, QuerySet

from rules.models import (
    AccountValidationSettings,
    Attribute,
    AttributeOption,
    ClientType,
    ServiceRule,
)
from users.models import Reseller


def client_type_list(*, reseller: Reseller) -> QuerySet[ClientType]:
    """The reseller's client types, by name."""
    return ClientType.objects.filter(reseller=reseller).order_by("name", "pk")


def service_rule_list(*, reseller: Reseller) -> QuerySet[ServiceRule]:
    """The reseller's service rules, by name."""
    return ServiceRule.objects.filter(reseller=reseller).order_by("name", "pk")


def attribute_list_for_create(*, client_type: ClientType) -> list[Attribute]:
    """The attributes the Add client page shows for a client type: the type's
    own, without the read-only-for-admin ones, lightest weight first, with their
    list options."""
    return list(
        Attribute.objects.filter(
            reseller_id=client_type.reseller_id,
            client_types=client_type,
            read_only_for_admin=False,
        )
        .prefetch_related(
            Prefetch("options", queryset=AttributeOption.objects.order_by("position", "pk"))
        )
        .order_by("weight", "name", "pk")
    )


def account_validation_settings() -> AccountValidationSettings:
    """The installation's account validation settings, held by the root
    reseller. Without a saved row the shipped defaults apply (the forbidden
    regions list among them), so the checks never silently switch off."""
    settings = AccountValidationSettings.objects.filter(reseller__parent__isnull=True).first()
    return settings if settings is not None else AccountValidationSettings()


def attribute_list_hidden_required(*, client_type: ClientType) -> list[Attribute]:
    """The type's required attributes that the client pages do not show
    (read-only for admin): a client of the type needs them, and no page can
    fill them."""
    return list(
        Attribute.objects.filter(
            reseller_id=client_type.reseller_id,
            client_types=client_type,
            read_only_for_admin=True,
            required=True,
        ).order_by("weight", "name", "pk")
    )
