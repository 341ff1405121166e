"""POST accounts: a JSON:API body turned into the Add client page's sections
and handed to ``clients.services.client_create``, the one place a client is
born. The body is only read here (types, IDs into objects, the API's own
defaults); whether the client is allowed is the service's decision, and each
of its errors ("contacts.city") comes back pointing at its attribute through
``api.fields``."""

import hashlib
import json
from dataclasses import dataclass, field

from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.utils.translation import gettext as _

from api.fields import ATTRIBUTE_NAMES, BY_API, OWNER_NAMES, pointer_for
from api.jsonapi import ApiError, ErrorObject
from api.selectors import manager_by_key
from clients.inputs import (
    Agreements,
    ClientInfo,
    Contacts,
    ContractPerson,
    ExistingOwner,
    NewOwner,
)
from clients.models import PostpayPermission
from rules.models import ClientType, ServiceRule
from users import roles
from users.models import Manager, Reseller

INTEGER_FIELDS = ("account_type_id", "service_rule_id", "manager_id", "owner_id")
BOOLEAN_FIELDS = ("terms_accepted",)
TEXT_FIELDS = tuple(
    name
    for name in BY_API
    if "." not in name and name not in INTEGER_FIELDS + BOOLEAN_FIELDS + ("postpay_permission",)
)
CUSTOM_ATTRIBUTES_MAX = 200
_BIGINT_MAX = 2**63 - 1


@dataclass
class AccountRequest:
    """The body's attributes, each of its JSON type, not yet checked against
    the reseller or the rules."""

    values: dict[str, object]
    owner: dict[str, str] | None
    custom_attributes: dict[str, object]
    # The position of each custom attribute in the body, for error pointers.
    positions: dict[str, int]
    manager_key: str | None


@dataclass
class Prepared:
    """What the service is called with, and what the answer adds."""

    arguments: dict
    warnings: list[dict] = field(default_factory=list)


def fingerprint(*, reseller_id: int, body: object) -> str:
    """The request as the idempotency key remembers it: the target and the
    body, whatever the order of its keys."""
    canonical = json.dumps(
        {"reseller_id": reseller_id, "body": body}, sort_keys=True, ensure_ascii=False
    )
    return hashlib.sha256(canonical.encode()).hexdigest()


def _error(status: int, code: str, detail: str, pointer: str) -> ErrorObject:
    return ErrorObject(status=status, code=code, detail=detail, pointer=pointer)


def _type_error(name: str, expected: str) -> ErrorObject:
    return _error(
        422,
        "invalid_type",
        _("%(name)s must be %(expected)s.") % {"name": name, "expected": expected},
        "/data/attributes/" + name.replace(".", "/"),
    )


def read_body(body: object) -> AccountRequest:
    """The document's structure and each attribute's JSON type; every problem
    at once. A body that is no JSON:API document at all is 400."""
    if not isinstance(body, dict) or not isinstance(body.get("data"), dict):
        raise ApiError.one(
            400,
            "invalid_document",
            _('The body must be a JSON:API document: {"data": {"type": "accounts", ...}}.'),
            pointer="",
        )
    data = body["data"]
    errors: list[ErrorObject] = []
    if data.get("type") != "accounts":
        raise ApiError.one(
            409, "wrong_type", _("data.type must be “accounts”."), pointer="/data/type"
        )
    if "id" in data:
        raise ApiError.one(
            403,
            "client_generated_id",
            _("The server gives the account its ID: leave data.id out."),
            pointer="/data/id",
        )
    for key in data:
        if key not in {"type", "attributes", "meta"}:
            errors.append(
                _error(
                    400,
                    "unknown_member",
                    _("%(name)s is not a member of data here.") % {"name": str(key)[:100]},
                    f"/data/{str(key)[:100]}",
                )
            )
    attributes = data.get("attributes")
    if not isinstance(attributes, dict):
        errors.append(
            _error(400, "invalid_document", _("data.attributes must be an object."), "/data")
        )
        raise ApiError(errors)

    values: dict[str, object] = {}
    for name, value in attributes.items():
        if name not in ATTRIBUTE_NAMES:
            errors.append(
                _error(
                    422,
                    "unknown_attribute",
                    _("%(name)s is not an attribute of an account.") % {"name": str(name)[:100]},
                    "/data/attributes/" + str(name)[:100].replace("~", "~0").replace("/", "~1"),
                )
            )
            continue
        if name in INTEGER_FIELDS:
            if value is None and name != "account_type_id":
                continue
            if isinstance(value, bool) or not isinstance(value, int):
                errors.append(_type_error(name, _("a whole number")))
                continue
            if not 0 < value <= _BIGINT_MAX:
                errors.append(
                    _error(
                        422,
                        "not_found",
                        _("No object has this ID."),
                        f"/data/attributes/{name}",
                    )
                )
                continue
        elif name in BOOLEAN_FIELDS:
            if not isinstance(value, bool):
                errors.append(_type_error(name, _("true or false")))
                continue
        elif name == "postpay_permission":
            if value is None:
                continue
            if value not in PostpayPermission.values:
                errors.append(
                    _error(
                        422,
                        "invalid_choice",
                        _("postpay_permission must be one of %(values)s.")
                        % {"values": ", ".join(PostpayPermission.values)},
                        "/data/attributes/postpay_permission",
                    )
                )
                continue
        elif (name in TEXT_FIELDS or name == "manager_key") and not isinstance(value, str):
            errors.append(_type_error(name, _("a string")))
            continue
        if name not in {"owner", "custom_attributes"}:
            values[name] = value

    owner = attributes.get("owner")
    if owner is not None and not isinstance(owner, dict):
        errors.append(_type_error("owner", _("an object")))
        owner = None
    elif isinstance(owner, dict):
        for key, value in owner.items():
            if key not in OWNER_NAMES:
                errors.append(
                    _error(
                        422,
                        "unknown_attribute",
                        _("%(name)s is not an attribute of an owner.") % {"name": str(key)[:100]},
                        "/data/attributes/owner/" + str(key)[:100].replace("/", "~1"),
                    )
                )
            elif not isinstance(value, str):
                errors.append(_type_error(f"owner.{key}", _("a string")))

    custom: dict[str, object] = {}
    positions: dict[str, int] = {}
    given = attributes.get("custom_attributes", [])
    if not isinstance(given, list) or len(given) > CUSTOM_ATTRIBUTES_MAX:
        errors.append(
            _type_error(
                "custom_attributes",
                _("a list of at most %(count)s {key, value} objects")
                % {"count": CUSTOM_ATTRIBUTES_MAX},
            )
        )
        given = []
    for position, item in enumerate(given):
        pointer = f"/data/attributes/custom_attributes/{position}"
        if (
            not isinstance(item, dict)
            or set(item) - {"key", "value"}
            or not isinstance(item.get("key"), str)
        ):
            errors.append(
                _error(
                    422,
                    "invalid_type",
                    _("Each custom attribute is an object {key, value} with a string key."),
                    pointer,
                )
            )
            continue
        value = item.get("value")
        if value is not None and not isinstance(value, str | bool):
            errors.append(
                _error(
                    422,
                    "invalid_type",
                    _("A custom attribute's value is a string, true or false."),
                    pointer + "/value",
                )
            )
            continue
        key = item["key"]
        if key in custom:
            errors.append(
                _error(
                    422,
                    "duplicate_attribute",
                    _("The attribute %(key)s is given twice.") % {"key": key[:64]},
                    pointer + "/key",
                )
            )
            continue
        custom[key] = value
        positions[key] = position
    if errors:
        raise ApiError(errors)
    return AccountRequest(
        values=values,
        owner=owner,
        custom_attributes=custom,
        positions=positions,
        manager_key=values.pop("manager_key", None),
    )


def _warning(code: str, detail: str, pointer: str) -> dict:
    return {"code": code, "detail": detail, "source": {"pointer": pointer}}


def resolve(
    request: AccountRequest, *, reseller: Reseller, actor: Manager, may_decide_postpay: bool
) -> Prepared:
    """IDs into the reseller's objects and the API's defaults (the default
    rule and country as the page preselects them; postpay "Verification not
    performed" unless the role may decide it and the body says so; the
    contract person as the new owner when none is given). Returns the
    sections for ``client_create``."""
    values = request.values
    errors: list[ErrorObject] = []
    warnings: list[dict] = []

    def unknown(name: str, detail: str) -> None:
        errors.append(_error(422, "not_found", detail, BY_API[name].pointer))

    client_type = None
    if values.get("account_type_id") is None:
        errors.append(
            _error(
                422,
                "required",
                _("This field is required."),
                BY_API["account_type_id"].pointer,
            )
        )
    else:
        client_type = ClientType.objects.filter(
            reseller=reseller, pk=values["account_type_id"]
        ).first()
        if client_type is None:
            unknown("account_type_id", _("The reseller has no account type with this ID."))

    rules = ServiceRule.objects.filter(reseller=reseller)
    if values.get("service_rule_id") is not None:
        service_rule = rules.filter(pk=values["service_rule_id"]).first()
        if service_rule is None:
            unknown("service_rule_id", _("The reseller has no service rule with this ID."))
    else:
        service_rule = rules.filter(is_default=True).first()
        if service_rule is None:
            errors.append(
                _error(
                    422,
                    "required",
                    _("The reseller has no default service rule: give service_rule_id."),
                    BY_API["service_rule_id"].pointer,
                )
            )

    manager = None
    if values.get("manager_id") is not None:
        manager = Manager.objects.filter(reseller=reseller, pk=values["manager_id"]).first()
        if manager is None:
            unknown("manager_id", _("The reseller has no manager with this ID."))
        if request.manager_key is not None:
            warnings.append(
                _warning(
                    "manager_key_ignored",
                    _("manager_id is given, so manager_key is not used."),
                    "/data/attributes/manager_key",
                )
            )
    elif request.manager_key is not None:
        by_key = manager_by_key(reseller=reseller, key=request.manager_key)
        if by_key is None:
            warnings.append(
                _warning(
                    "manager_key_unknown",
                    _(
                        "No manager of this reseller has the key %(key)s: the account is "
                        "created without a manager."
                    )
                    % {"key": request.manager_key[:64]},
                    "/data/attributes/manager_key",
                )
            )
        elif not by_key.is_active:
            warnings.append(
                _warning(
                    "manager_key_inactive",
                    _(
                        "The manager with the key %(key)s is inactive: the account is "
                        "created without a manager."
                    )
                    % {"key": request.manager_key[:64]},
                    "/data/attributes/manager_key",
                )
            )
        else:
            manager = by_key

    postpay = values.get("postpay_permission")
    if postpay is not None and not may_decide_postpay:
        errors.append(
            _error(
                403,
                "postpay_not_allowed",
                _("Your role may not decide the postpay permission; leave it out."),
                BY_API["postpay_permission"].pointer,
            )
        )
    if postpay is None and reseller.postpay_is_manual:
        postpay = PostpayPermission.NOT_VERIFIED

    contract = ContractPerson(
        first_name=values.get("first_name", ""),
        middle_name=values.get("middle_name", ""),
        last_name=values.get("last_name", ""),
        email=values.get("email", ""),
    )
    owner_id = values.get("owner_id")
    if owner_id is not None and request.owner is not None:
        errors.append(
            _error(
                422,
                "owner_conflict",
                _("Give owner_id (an existing user) or owner (a new one), not both."),
                BY_API["owner_id"].pointer,
            )
        )
    if owner_id is not None:
        owner = ExistingOwner(user_id=owner_id)
    elif request.owner is not None:
        owner = NewOwner(
            first_name=request.owner.get("first_name", ""),
            middle_name=request.owner.get("middle_name", ""),
            last_name=request.owner.get("last_name", ""),
            email=request.owner.get("email", ""),
        )
    else:
        # As the platform does: the contract person becomes the owner.
        owner = NewOwner(
            first_name=contract.first_name,
            middle_name=contract.middle_name,
            last_name=contract.last_name,
            email=contract.email,
        )
    if errors:
        raise ApiError(errors, status=max(error.status for error in errors))

    arguments = {
        "actor": actor,
        "reseller": reseller,
        "client_info": ClientInfo(
            client_type=client_type,
            service_rule=service_rule,
            company_name=values.get("primary_name", ""),
            manager=manager,
            postpay_permission=postpay,
        ),
        "contacts": Contacts(
            country=values.get("country", str(reseller.default_country)),
            region=values.get("region", ""),
            city=values.get("city", ""),
            postal_code=values.get("postal_code", ""),
            address_line1=values.get("address_line1", ""),
            address_line2=values.get("address_line2", ""),
            phone=values.get("phone", ""),
            email=values.get("contact_email", ""),
        ),
        "contract_person": contract,
        "owner": owner,
        "agreements": Agreements(accepted=values.get("terms_accepted", False)),
        "attributes": request.custom_attributes,
    }
    return Prepared(arguments=arguments, warnings=warnings)


def service_errors(
    error: ValidationError, *, positions: dict[str, int], owner_is_contract_person: bool
) -> ApiError:
    """``client_create``'s errors, each with its code, pointing at its
    attribute. When the body gave no owner the contract person stands in for
    one, so that owner's errors point at the contract person's attributes
    (and are not told twice)."""
    objects: list[ErrorObject] = []
    seen: set[tuple[str, str]] = set()
    for target, problems in error.error_dict.items():
        if owner_is_contract_person and target.startswith("owner.new_"):
            target = "contract_person." + target.removeprefix("owner.new_")
        if target == NON_FIELD_ERRORS:
            pointer = "/data"
        else:
            pointer = pointer_for(target, attribute_positions=positions)
        for problem in problems:
            for single in problem.error_list:
                # Django's own formatting (plural forms come from the params).
                message = next(iter(single))
                code = single.code or "invalid"
                named = (single.params or {}).get("key")
                if target == "attributes" and named in positions:
                    # An attribute the type does not have: point at its key.
                    pointer = f"/data/attributes/custom_attributes/{positions[named]}/key"
                if (pointer, message) in seen:
                    continue
                seen.add((pointer, message))
                objects.append(ErrorObject(status=422, code=code, detail=message, pointer=pointer))
    return ApiError(objects, status=422)


def may_decide_postpay(user) -> bool:
    return user.has_perm(roles.perm(roles.DECIDE_POSTPAY))
