"""The Add client page's rules, section by section, shared with the Edit
client page and the API: each check adds its failures to one collection, so
that every section is checked before anything is written."""

import unicodedata
from collections.abc import Callable
from dataclasses import dataclass, replace

from django.conf import settings as django_settings
from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from clients import selectors
from clients.inputs import (
    Agreements,
    AttributeValues,
    ClientInfo,
    Contacts,
    ContractPerson,
    ExistingOwner,
    NewOwner,
    NewUser,
    Owner,
    column_length,
)
from clients.models import Client, ClientAttributeValue, OwnerEmailCheck, PostpayPermission
from rules import selectors as rules_selectors
from rules import validation
from rules.models import AccountValidationSettings
from users.models import Manager, ManagerStatus, Reseller, User
from users.selectors import user_may_own_clients
from users.validators import PHONE_INPUT_MAX_LENGTH, phone_to_e164, validate_email_local_part_ascii


@dataclass(frozen=True, kw_only=True)
class _Sections:
    """The inputs of client_create, section by section (None: not given)."""

    client_info: ClientInfo | None
    contacts: Contacts | None
    contract_person: ContractPerson | None
    owner: Owner | None
    agreements: Agreements | None
    attributes: AttributeValues | None


@dataclass(frozen=True, kw_only=True)
class _Checked:
    """The sections once every check passed, as they will be stored."""

    client_info: ClientInfo
    contacts: Contacts
    contract_person: ContractPerson
    owner: User | NewOwner
    attribute_values: list[ClientAttributeValue]
    terms_accepted: bool


class _Errors:
    """The failures of one client_create, collected by ``<section>.<field>``."""

    def __init__(self) -> None:
        self.by_key: dict[str, list[ValidationError]] = {}

    def add(self, key: str, error: ValidationError | str) -> None:
        if not isinstance(error, ValidationError):
            error = ValidationError(error)
        self.by_key.setdefault(key, []).append(error)

    def checked[T](self, key: str, check: Callable[..., T], *args, **kwargs) -> T | None:
        """What ``check`` returns, or None when it fails (the failure is kept)."""
        try:
            return check(*args, **kwargs)
        except ValidationError as error:
            self.add(key, error)
            return None

    def raise_if_any(self) -> None:
        if self.by_key:
            raise ValidationError(self.by_key)


def _checked_sections(
    *, actor: Manager, reseller: Reseller, sections: _Sections, partial: bool = False
) -> _Checked | None:
    """Every check of client_create, section by section in page order; all
    failures are raised together. ``partial``: the sections not given are
    not checked (client_create_check), and nothing is returned."""
    errors = _Errors()
    _check_actor_may_create(errors, actor=actor, reseller=reseller)
    settings = rules_selectors.account_validation_settings()
    client_info = _check_client_info(
        errors, sections.client_info, reseller=reseller, settings=settings
    )
    contacts = _check_contacts(errors, sections.contacts, reseller=reseller, settings=settings)
    contract_person = _check_contract_person(errors, sections.contract_person)
    owner = _check_owner(
        errors, sections.owner, actor=actor, reseller=reseller, required=not partial
    )
    attribute_values = _check_attributes(
        errors, sections.attributes, client_info=sections.client_info, reseller=reseller
    )
    errors.raise_if_any()
    if partial:
        return None
    return _Checked(
        client_info=client_info,
        contacts=contacts,
        contract_person=contract_person,
        owner=owner,
        attribute_values=attribute_values,
        terms_accepted=sections.agreements.accepted,
    )


def _check_actor_may_create(errors: _Errors, *, actor: Manager, reseller: Reseller) -> None:
    if actor.status != ManagerStatus.ACTIVE:
        errors.add(
            NON_FIELD_ERRORS,
            ValidationError(_("Only an active manager can create clients."), code="inactive_actor"),
        )
    elif not selectors.reseller_in_reach(manager=actor, reseller=reseller):
        errors.add(
            NON_FIELD_ERRORS,
            ValidationError(
                _("You cannot create clients for this reseller."), code="reseller_not_in_reach"
            ),
        )


def _check_client_info(
    errors: _Errors,
    info: ClientInfo | None,
    *,
    reseller: Reseller,
    settings: AccountValidationSettings,
) -> ClientInfo | None:
    """The type, rule and manager are the reseller's, the manager Active;
    the company name and postpay permission as their checks say."""
    if info is None:
        return None
    if info.client_type.reseller_id != reseller.pk:
        errors.add(
            "client_info.client_type",
            ValidationError(
                _("Select a client type of your reseller."), code="foreign_client_type"
            ),
        )
    if info.service_rule.reseller_id != reseller.pk:
        errors.add(
            "client_info.service_rule",
            ValidationError(
                _("Select a service rule of your reseller."), code="foreign_service_rule"
            ),
        )
    problem = _manager_problem(info.manager, reseller_id=reseller.pk)
    if problem is not None:
        errors.add("client_info.manager", problem)
    return replace(
        info,
        company_name=_check_company_name(errors, info, settings=settings),
        postpay_permission=_check_postpay_permission(errors, info, reseller=reseller),
    )


def _check_company_name(
    errors: _Errors, info: ClientInfo, *, settings: AccountValidationSettings
) -> str:
    """Given exactly when the type has a primary name, and free of what the
    installation forbids in company names."""
    key = "client_info.company_name"
    if not info.client_type.has_company_name:
        if info.company_name.strip():
            errors.add(
                key,
                ValidationError(_("This client type has no company name."), code="no_company_name"),
            )
        return ""
    name = errors.checked(
        key,
        validation.clean_text,
        info.company_name,
        max_length=column_length(Client, "company_name"),
        required=True,
    )
    for problem in validation.company_name_errors(name, settings=settings) if name else []:
        errors.add(key, problem)
    return name or ""


def _check_postpay_permission(errors: _Errors, info: ClientInfo, *, reseller: Reseller) -> str:
    """Chosen by hand while the reseller decides postpay manually; otherwise
    not chosen, and "Verification not performed" until the platform checks."""
    key, permission = "client_info.postpay_permission", info.postpay_permission
    if reseller.postpay_is_manual:
        if permission not in PostpayPermission.values:
            errors.add(key, ValidationError(_("Select the postpay permission."), code="required"))
        return permission or ""
    if permission is not None:
        errors.add(
            key,
            ValidationError(
                _("Postpay is allowed automatically for this reseller."), code="postpay_automatic"
            ),
        )
    return PostpayPermission.NOT_VERIFIED


# Contact fields that must be Latin when the reseller asks for it.
LATIN_CONTACT_FIELDS = ("region", "city", "postal_code", "address_line1", "address_line2", "email")
_CONTACT_TEXTS = {  # field: required
    "region": False,
    "city": True,
    "postal_code": False,
    "address_line1": True,
    "address_line2": False,
}


def _check_contacts(
    errors: _Errors,
    contacts: Contacts | None,
    *,
    reseller: Reseller,
    settings: AccountValidationSettings,
) -> Contacts | None:
    """A country the reseller serves; each text present where required and
    within its column; a region the installation does not forbid; Latin
    text when the reseller asks; a phone that exists, kept in E.164."""
    if contacts is None:
        return None
    texts = {
        name: errors.checked(
            f"contacts.{name}",
            validation.clean_text,
            getattr(contacts, name),
            max_length=column_length(Client, name),
            required=required,
        )
        for name, required in _CONTACT_TEXTS.items()
    }
    texts["email"] = errors.checked(
        "contacts.email",
        validation.clean_email,
        contacts.email,
        max_length=column_length(Client, "email"),
        required=True,
    )
    if contacts.country not in {code for code, _name in reseller.country_choices()}:
        errors.add(
            "contacts.country",
            ValidationError(
                _("Select one of the countries your reseller serves."), code="country_not_served"
            ),
        )
    if texts["region"]:
        errors.checked(
            "contacts.region", validation.validate_region, texts["region"], settings=settings
        )
    if reseller.latin_contacts:
        for name in LATIN_CONTACT_FIELDS:
            if texts[name]:
                errors.checked(f"contacts.{name}", validation.validate_latin, texts[name])
    # The phone as typed fits PHONE_INPUT_MAX_LENGTH and shows every
    # character before it is read (an empty one gets the phone's own message).
    typed_phone = errors.checked(
        "contacts.phone", validation.clean_text, contacts.phone, max_length=PHONE_INPUT_MAX_LENGTH
    )
    phone = None
    if typed_phone is not None:
        phone = errors.checked(
            "contacts.phone", phone_to_e164, typed_phone, region=contacts.country
        )
    return Contacts(
        country=contacts.country,
        phone=phone or "",
        **{name: value or "" for name, value in texts.items()},
    )


def _check_contract_person(errors: _Errors, person: ContractPerson | None) -> ContractPerson | None:
    """First and last name and email given, each within its column."""
    if person is None:
        return None

    def text(name: str, *, required: bool) -> str:
        clean = validation.clean_email if name == "email" else validation.clean_text
        value = errors.checked(
            f"contract_person.{name}",
            clean,
            getattr(person, name),
            max_length=column_length(Client, f"contract_{name}"),
            required=required,
        )
        return value or ""

    return ContractPerson(
        first_name=text("first_name", required=True),
        middle_name=text("middle_name", required=False),
        last_name=text("last_name", required=True),
        email=text("email", required=True),
    )


# User IDs are bigints: anything else names nobody.
_MAX_ID = 2**63 - 1


def _check_owner(
    errors: _Errors, owner: Owner | None, *, actor: Manager, reseller: Reseller, required: bool
) -> User | NewOwner | None:
    """Exactly one owner: an existing user the reseller reaches who is none of
    the panel's own people (staff, superusers, managers; see
    ``users.selectors.user_may_own_clients``), or a new user."""
    if owner is None:
        if required:
            errors.add(
                "owner",
                ValidationError(_("Select the owner or create a new user."), code="required"),
            )
        return None
    if isinstance(owner, NewOwner):
        return _check_new_owner(errors, owner, actor=actor, reseller=reseller)
    user = None
    if isinstance(owner, ExistingOwner) and 0 < owner.user_id <= _MAX_ID:
        user = selectors.user_list_reachable(reseller=reseller).filter(pk=owner.user_id).first()
    if user is None:
        errors.add(
            "owner.user",
            ValidationError(
                _("Select a user of your reseller's clients."), code="owner_not_in_reach"
            ),
        )
    elif not user_may_own_clients(user=user):
        errors.add(
            "owner.user",
            ValidationError(
                _(
                    "Staff, administrators and panel managers cannot own a client: "
                    "select another user or create a new one."
                ),
                code="owner_not_eligible",
            ),
        )
    return user


def _manager_problem(manager: Manager | None, *, reseller_id: int) -> ValidationError | None:
    """Why this manager cannot look after a client of the reseller, or None:
    only an active manager of the client's own reseller (or nobody) can."""
    if manager is None:
        return None
    if manager.reseller_id != reseller_id:
        return ValidationError(_("Select a manager of your reseller."), code="foreign_manager")
    if manager.status != ManagerStatus.ACTIVE:
        return ValidationError(_("Select an active manager."), code="inactive_manager")
    return None


def _check_new_user[T: NewUser](errors: _Errors, person: T, *, prefix: str) -> T:
    """A user to create (a new owner, an invited user): names and email
    within their columns, first and last name and email given, and an email
    whose part before "@" is ASCII (no look-alike logins). Errors are keyed
    ``<prefix><field>``; an email that fails comes back empty."""

    def text(name: str, *, required: bool) -> str:
        value = errors.checked(
            f"{prefix}{name}",
            validation.clean_text,
            getattr(person, name),
            max_length=column_length(User, name),
            required=required,
        )
        return value or ""

    email = errors.checked(
        f"{prefix}email",
        validation.clean_email,
        person.email,
        max_length=column_length(User, "email"),
        required=True,
    )
    if email:
        # The part before "@" as typed: a look-alike letter there (ſ, ı, the
        # Kelvin sign) is refused, not folded into another person's login.
        email = errors.checked(f"{prefix}email", _ascii_local_part, email)
    if email:
        # The domain kept in plain letters (fullwidth ｅ is e; NFKC may
        # lengthen it: checked again), so that a look-alike of a taken
        # email is that email.
        email = errors.checked(
            f"{prefix}email",
            validation.clean_email,
            email_normalized(email),
            max_length=column_length(User, "email"),
        )
    return type(person)(
        first_name=text("first_name", required=True),
        middle_name=text("middle_name", required=False),
        last_name=text("last_name", required=True),
        email=email or "",
    )


def _ascii_local_part(email: str) -> str:
    validate_email_local_part_ascii(email)
    return email


def email_normalized(email: str) -> str:
    """A new user's email as the panel keeps it: compatibility characters
    made plain (NFKC: fullwidth letters are ASCII, ﬃ is ffi, as a mail
    server reads the domain anyway) and the domain in lower case, so that a
    look-alike of a taken email is that email. The part before "@" is ASCII
    already (``_check_new_user``)."""
    return User.objects.normalize_email(unicodedata.normalize("NFKC", email.strip()))


def _check_new_owner(
    errors: _Errors, owner: NewOwner, *, actor: Manager, reseller: Reseller
) -> NewOwner:
    """A new user (``_check_new_user``) whose email no user has in any letter
    case (the error offers the user who has it, when the reseller could make
    them the owner, and names nobody otherwise: ``new_user_email_problem``)."""
    owner = _check_new_user(errors, owner, prefix="owner.new_")
    if owner.email:
        problem = new_user_email_problem(actor=actor, reseller=reseller, email=owner.email)
        if problem is not None:
            errors.add("owner.new_email", problem)
    return owner


def new_user_email_problem(
    *, actor: Manager, reseller: Reseller, email: str, as_owner: bool = True
) -> ValidationError | None:
    """``selectors.new_owner_email_problem`` for an email the actor typed,
    counted: each taken email out of the actor's reach is recorded once per
    account (OwnerEmailCheck, older records dropped), and past
    OWNER_EMAIL_CHECKS_PER_HOUR of them in the last hour every email out of
    the actor's reach, a new one too, gets the same neutral answer."""
    checked = selectors.owner_email_checks_recent(manager=actor)
    exhausted = len(checked) >= django_settings.OWNER_EMAIL_CHECKS_PER_HOUR
    problem = selectors.new_owner_email_problem(
        reseller=reseller, email=email, as_owner=as_owner, checks_exhausted=exhausted
    )
    if problem is not None and problem.code == "email_unavailable" and not exhausted:
        # The email is kept in plain letters (email_normalized): its
        # look-alikes are one key.
        key = email.strip().lower()[: column_length(OwnerEmailCheck, "email")]
        if key not in checked:
            now = timezone.now()
            OwnerEmailCheck.objects.filter(
                manager=actor, checked_at__lt=now - selectors.OWNER_EMAIL_CHECK_WINDOW
            ).delete()
            OwnerEmailCheck.objects.create(manager=actor, email=key, checked_at=now)
    return problem


def _check_attributes(
    errors: _Errors,
    values: AttributeValues | None,
    *,
    client_info: ClientInfo | None,
    reseller: Reseller,
) -> list[ClientAttributeValue]:
    """The values of the type's attributes shown on the page, each checked as
    its definition says (``validation.clean_attribute_value``); a key left
    out takes the attribute's default, a key of no such attribute is refused."""
    if values is None or client_info is None or client_info.client_type.reseller_id != reseller.pk:
        return []
    attributes = rules_selectors.attribute_list_for_create(client_type=client_info.client_type)
    known = {attribute.key for attribute in attributes}
    for key in values:
        if key not in known:
            errors.add(
                "attributes",
                ValidationError(
                    _("%(key)s is not an attribute of this client type."),
                    code="unknown_attribute",
                    params={"key": key},
                ),
            )
    rows = []
    for attribute in attributes:
        raw = values.get(attribute.key, validation.attribute_default(attribute))
        text = errors.checked(
            f"attributes.{attribute.key}", validation.clean_attribute_value, attribute, raw
        )
        if text:
            rows.append(ClientAttributeValue(attribute=attribute, value=text))
    return rows


POSTPAY_DECISIONS = frozenset({PostpayPermission.APPROVED, PostpayPermission.DECLINED})
