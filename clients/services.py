"""Writes about clients: every change of a client happens here, in one
transaction, and is recorded by ``client_event_record`` (its event-log entry
and, when the event has one, its notification)."""

import datetime as dt
import unicodedata
import uuid
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass, replace

from django.conf import settings as django_settings
from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.db import IntegrityError, connection, transaction
from django.db.models import OuterRef, Subquery
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext_lazy as _

from clients import selectors
from clients.events import choice_label, event_wording
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
from clients.models import (
    AccessLevel,
    Client,
    ClientAccess,
    ClientAttributeValue,
    ClientEvent,
    ClientStatus,
    EventType,
    OwnerEmailCheck,
    PostpayPermission,
    TermsStatus,
)
from clients.search import search_text
from notifications.services import notify, owner_password_set
from rules import selectors as rules_selectors
from rules import validation
from rules.models import AccountValidationSettings, Attribute, AttributeValueType, ClientType
from users.models import Manager, ManagerStatus, Reseller, User
from users.selectors import user_may_own_clients
from users.validators import (
    PHONE_INPUT_MAX_LENGTH,
    phone_to_e164,
    validate_email_local_part_ascii,
)

# --- Recording a change ------------------------------------------------------------

# The events that are announced (through the reseller's handler of the event,
# to the owner unless the service names the recipients); the others, and any
# entry hidden from the client, are only logged.
NOTIFIED_EVENTS = frozenset(
    {
        EventType.CLIENT_CREATED,
        EventType.STATUS_CHANGED,
        EventType.MANAGER_CHANGED,
        EventType.CLIENT_UPDATED,
        EventType.USER_ADDED,
        EventType.USER_LEVEL_CHANGED,
        EventType.USER_REMOVED,
        EventType.OWNERSHIP_TRANSFERRED,
    }
)


def client_event_record(
    *,
    client: Client,
    actor: User | None,
    event_type: EventType,
    data: dict,
    visible_to_client: bool,
    created_at: dt.datetime | None = None,
    recipients: Sequence[User] | None = None,
) -> ClientEvent:
    """Record a change of the client, the one way every service does: its
    event-log entry, worded from ``data`` (clients/events.py, which words it
    again in each reader's language), and for an event of NOTIFIED_EVENTS the
    client may see, its notification (to ``recipients``, by default the
    owner; the message can read the entry's facts). ``actor`` None is the
    System.

    Call it inside the transaction that makes the change, so that the change,
    its entry and its queued notification commit or roll back together."""
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("Record a client's change inside the transaction that makes it.")
    subject, description = event_wording(event_type, data)
    event = ClientEvent.objects.create(
        client=client,
        event_type=event_type,
        subject=subject,
        description=description,
        data=data,
        actor=actor,
        visible_to_client=visible_to_client,
        created_at=created_at or timezone.now(),
    )
    if event_type in NOTIFIED_EVENTS and visible_to_client:
        notify(event=event_type, client=client, actor=actor, recipients=recipients, log_entry=event)
    return event


# --- client_create: the checks, then the writes -------------------------------------


class DuplicateSubmission(Exception):
    """The page's one-time token already made a client; nothing new was created."""

    def __init__(self, client: Client) -> None:
        super().__init__(f"Client #{client.pk} was already created from this page.")
        self.client = client


def client_create(
    *,
    actor: Manager,
    reseller: Reseller,
    client_info: ClientInfo,
    contacts: Contacts,
    contract_person: ContractPerson,
    owner: Owner,
    agreements: Agreements | None = None,
    attributes: AttributeValues | None = None,
    creation_token: uuid.UUID | None = None,
    origin: Mapping[str, str] | None = None,
) -> Client:
    """Create a client of ``reseller``, the only way a client is born.

    ``reseller`` is the actor's own or one they reach
    (``selectors.reseller_in_reach``). Every rule is checked here, whatever
    the caller checked (``_checked_sections`` and the checks it calls): the
    type, rule, manager and owner are the reseller's, the manager Active, the
    owner none of the panel's own people, the company name and region
    allowed by the installation, the contacts Latin when the reseller asks,
    the phone real, every text within its column,
    the attributes as their definitions say, and there is exactly one owner:
    an existing user or a new one whose email no user has. All failures are
    raised together as one ``ValidationError`` keyed ``<section>.<field>``
    (see clients.inputs).

    Then one transaction writes the client (status Active), the new owner
    (without a usable password: the notification's link sets it; an owner
    who has a password gets the email without a link), the Owner access,
    the attribute values and, through ``client_event_record``, the event log
    and the queued "client created" notification.

    ``creation_token`` is the page's one-time token: a second submit of the
    page raises ``DuplicateSubmission`` carrying the client the first made,
    and writes nothing, also when the two race (``_one_client_per_token``).
    ``origin`` says where the request came from when it was not the page
    (``{"via": "api", "token": <the token's name>}``); the "client created"
    event keeps it and the client page words it.
    """
    sections = _Sections(
        client_info=client_info,
        contacts=contacts,
        contract_person=contract_person,
        owner=owner,
        agreements=agreements or Agreements(),
        attributes=attributes if attributes is not None else {},
    )
    with _one_client_per_token(creation_token, reseller=reseller):
        checked = _checked_sections(actor=actor, reseller=reseller, sections=sections)
        client = _new_client(checked, actor=actor, reseller=reseller, token=creation_token)
        return _client_write(client, checked=checked, actor=actor, origin=origin)


def client_create_check(
    *,
    actor: Manager,
    reseller: Reseller,
    client_info: ClientInfo | None = None,
    contacts: Contacts | None = None,
    contract_person: ContractPerson | None = None,
    owner: Owner | None = None,
    agreements: Agreements | None = None,
    attributes: AttributeValues | None = None,
    creation_token: uuid.UUID | None = None,
) -> ValidationError | None:
    """The errors ``client_create`` would raise for these sections, or None,
    and nothing written: a page shows them beside its own forms' errors in
    the same round. A section given as None is one the caller could not read:
    its checks are skipped (the attributes' too without the client
    information, which names the type). A token that already made a client
    raises ``DuplicateSubmission`` as ``client_create`` does."""
    sections = _Sections(
        client_info=client_info,
        contacts=contacts,
        contract_person=contract_person,
        owner=owner,
        agreements=agreements,
        attributes=attributes,
    )
    try:
        with _one_client_per_token(creation_token, reseller=reseller):
            _checked_sections(actor=actor, reseller=reseller, sections=sections, partial=True)
    except ValidationError as error:
        return error
    return None


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
                _("Postpay is allowed automatically for this reseller."),
                code="postpay_automatic",
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
                _("Select one of the countries your reseller serves."),
                code="country_not_served",
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
        "contacts.phone",
        validation.clean_text,
        contacts.phone,
        max_length=PHONE_INPUT_MAX_LENGTH,
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
# Clients read and written at a time by client_search_text_refresh.
SEARCH_TEXT_REFRESH_BATCH = 5_000


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


def _new_client(
    checked: _Checked, *, actor: Manager, reseller: Reseller, token: uuid.UUID | None
) -> Client:
    """The client row to insert, from the checked sections."""
    info, contacts, person = checked.client_info, checked.contacts, checked.contract_person
    now = timezone.now()
    terms_status = TermsStatus.NOT_REQUESTED
    if reseller.terms_required:
        terms_status = TermsStatus.ACCEPTED if checked.terms_accepted else TermsStatus.PENDING
    # A permission chosen by hand as approved or declined is a decision: final.
    decided = reseller.postpay_is_manual and info.postpay_permission in POSTPAY_DECISIONS
    return Client(
        reseller=reseller,
        client_type=info.client_type,
        company_name=info.company_name,
        name=_display_name(info.client_type, info.company_name, person),
        manager=info.manager,
        service_rule=info.service_rule,
        postpay_permission=info.postpay_permission,
        postpay_decided_at=now if decided else None,
        postpay_decided_by=actor.user if decided else None,
        status=ClientStatus.ACTIVE,
        # The contacts' fields are the client's columns; the contract person's
        # are its contract_* columns.
        **asdict(contacts),
        **{f"contract_{name}": value for name, value in asdict(person).items()},
        terms_status=terms_status,
        terms_accepted_at=now if terms_status == TermsStatus.ACCEPTED else None,
        terms_accepted_by=actor if terms_status == TermsStatus.ACCEPTED else None,
        created_at=now,
        created_by=actor.user,
        creation_token=token,
    )


def _display_name(client_type: ClientType, company_name: str, person: ContractPerson) -> str:
    name = client_type.build_display_name(
        primary_name=company_name,
        first_name=person.first_name,
        middle_name=person.middle_name,
        last_name=person.last_name,
    )
    if not name:
        # A pattern of only %primary_name on a type without one: fall back to
        # the contract person rather than a nameless client.
        name = " ".join(part for part in (person.last_name, person.first_name) if part)
    return name[: column_length(Client, "name")]


def _client_write(
    client: Client, *, checked: _Checked, actor: Manager, origin: Mapping[str, str] | None
) -> Client:
    """One transaction: the client row first (a second submit racing this one
    stops at its unique creation token before writing anything else), the
    new owner, the Owner access, the attribute values, the event log and the
    notification. A new owner's email taken meanwhile by another page is
    reported as the check would have."""
    try:
        with transaction.atomic():
            client.search_text = search_text(
                name=client.name, phone=client.phone, owner_email=checked.owner.email
            )
            client.save(force_insert=True)
            owner = checked.owner
            if isinstance(owner, NewOwner):
                owner = _owner_user_create(owner)
            ClientAccess.objects.create(
                client=client, user=owner, level=AccessLevel.OWNER, created_at=client.created_at
            )
            for value in checked.attribute_values:
                value.client = client
            ClientAttributeValue.objects.bulk_create(checked.attribute_values)
            _record_creation(client, actor=actor, origin=origin)
    except IntegrityError:
        client.pk = None
        if isinstance(checked.owner, NewOwner):
            problem = selectors.new_owner_email_problem(
                reseller=client.reseller, email=checked.owner.email
            )
            if problem is not None:
                raise ValidationError({"owner.new_email": [problem]}) from None
        raise
    return client


def _owner_user_create(owner: NewOwner) -> User:
    # No usable password: the "client created" email's link lets the owner set one.
    return User.objects.create_user(
        email=owner.email,
        password=None,
        first_name=owner.first_name,
        middle_name=owner.middle_name,
        last_name=owner.last_name,
    )


def _record_creation(client: Client, *, actor: Manager, origin: Mapping[str, str] | None) -> None:
    """ "Client created", visible to the client and notified, with where the
    request came from; and the terms the manager accepted on the client's
    behalf, hidden from the client."""
    manager = {"manager_id": actor.pk, "manager": str(actor)}
    client_event_record(
        client=client,
        actor=actor.user,
        event_type=EventType.CLIENT_CREATED,
        data={**manager, **(origin or {})},
        visible_to_client=True,
        created_at=client.created_at,
    )
    if client.terms_status == TermsStatus.ACCEPTED:
        client_event_record(
            client=client,
            actor=actor.user,
            event_type=EventType.TERMS_ACCEPTED,
            data={**manager, "terms_url": client.reseller.terms_url},
            visible_to_client=False,
            created_at=client.created_at,
        )


@contextmanager
def _one_client_per_token(token: uuid.UUID | None, *, reseller: Reseller) -> Iterator[None]:
    """The double-submit rule, all of it: a page's one-time token makes one
    client. A token that already made one raises DuplicateSubmission with
    that client before any check (another reseller's token: the page has
    expired). So does a failure of the checks or of the insert when a submit
    racing this one committed the page's client meanwhile: its new owner's
    email is taken by then, or the unique token stops the insert."""
    if token is None:
        yield
        return
    _raise_if_created(token, reseller=reseller)
    try:
        yield
    except (ValidationError, IntegrityError):
        _raise_if_created(token, reseller=reseller)
        raise


def _raise_if_created(token: uuid.UUID, *, reseller: Reseller) -> None:
    existing = selectors.client_created_with_token(token=token)
    if existing is None:
        return
    if existing.reseller_id != reseller.pk:
        raise ValidationError({NON_FIELD_ERRORS: [_("This page has expired; open it again.")]})
    raise DuplicateSubmission(existing)


# --- Status changes and postpay decisions ----------------------------------------


def _check_actor(*, actor: Manager, client: Client) -> None:
    # Views reach clients through the scoped selectors; this guards other callers.
    in_reach = selectors.reseller_in_reach(manager=actor, reseller=client.reseller)
    if actor.status != ManagerStatus.ACTIVE or not in_reach:
        raise ValidationError(_("You cannot act on this client."), code="not_allowed")


def _lock_client(client: Client) -> Client:
    """The client's row, locked until the transaction ends, so that two changes
    at once are decided one after the other on fresh data."""
    return (
        Client.objects.select_for_update(of=("self",)).select_related("reseller").get(pk=client.pk)
    )


def _apply_status(client: Client, *, status: str, actor: User | None) -> None:
    old_status = client.status
    client.status = status
    client.save(update_fields=["status"])
    client_event_record(
        client=client,
        actor=actor,
        event_type=EventType.STATUS_CHANGED,
        data={
            "old_status": old_status,
            "new_status": status,
            "actor": (actor.get_full_name() or actor.email) if actor is not None else None,
        },
        visible_to_client=True,
    )


def client_set_status(*, actor: Manager, client: Client, status: str) -> Client:
    """Move the client to another status on a manager's decision, with its
    event-log entry and the ``client.status_changed`` notification, in one
    transaction. The move is checked against the row's current status under a
    lock; a move ``selectors.client_status_targets`` does not offer raises
    ValidationError. Returns the updated client (the given instance gets the
    new status too)."""
    _check_actor(actor=actor, client=client)
    with transaction.atomic():
        locked = _lock_client(client)
        if status not in selectors.client_status_targets(client=locked):
            raise ValidationError(
                _("A client cannot go from the status %(old)s to %(new)s."),
                code="transition_not_allowed",
                params={
                    "old": choice_label(ClientStatus, locked.status),
                    "new": choice_label(ClientStatus, status),
                },
            )
        _apply_status(locked, status=status, actor=actor.user)
    client.status = locked.status
    return locked


def client_set_credit_hold(*, client: Client) -> Client:
    """Put an Active client on credit hold as the system (the event's actor is
    empty); billing calls this, and Django admin offers it as an action.
    Any other status raises ValidationError."""
    with transaction.atomic():
        locked = _lock_client(client)
        if locked.status != ClientStatus.ACTIVE:
            raise ValidationError(
                _("Only an active client can be put on credit hold; this one is %(status)s."),
                code="transition_not_allowed",
                params={"status": choice_label(ClientStatus, locked.status)},
            )
        _apply_status(locked, status=ClientStatus.CREDIT_HOLD, actor=None)
    client.status = locked.status
    return locked


def client_decide_postpay(*, actor: Manager, client: Client, decision: str) -> Client:
    """Approve or decline the client's postpay by hand, once and for good.

    Allowed only while the reseller's "Allow client postpay" is Manually and
    the permission is still "Verification not performed" or "Approval
    required" (``selectors.client_postpay_can_decide``); anything else raises
    ValidationError. The event-log entry is hidden from the client: the
    verification is the reseller's own business."""
    _check_actor(actor=actor, client=client)
    if decision not in POSTPAY_DECISIONS:
        raise ValidationError(_("Choose to approve or to decline."), code="invalid_decision")
    with transaction.atomic():
        locked = _lock_client(client)
        if not locked.reseller.postpay_is_manual:
            raise ValidationError(
                _("This reseller's postpay permission is decided automatically."),
                code="postpay_automatic",
            )
        if not selectors.client_postpay_can_decide(client=locked):
            raise ValidationError(
                _("The postpay permission has already been decided: %(permission)s."),
                code="postpay_decided",
                params={"permission": locked.get_postpay_permission_display()},
            )
        old_permission = locked.postpay_permission
        locked.postpay_permission = decision
        locked.postpay_decided_at = timezone.now()
        locked.postpay_decided_by = actor.user
        locked.save(
            update_fields=["postpay_permission", "postpay_decided_at", "postpay_decided_by"]
        )
        client_event_record(
            client=locked,
            actor=actor.user,
            event_type=EventType.POSTPAY_DECIDED,
            data={
                "old_permission": old_permission,
                "new_permission": decision,
                "actor": actor.user.get_full_name() or actor.user.email,
            },
            visible_to_client=False,
            created_at=locked.postpay_decided_at,
        )
    client.postpay_permission = locked.postpay_permission
    client.postpay_decided_at = locked.postpay_decided_at
    client.postpay_decided_by = locked.postpay_decided_by
    return locked


# --- After creation: manager, users and access levels, the owner's terms ---------

# The levels a manager gives or changes by hand; the Owner changes only by a
# transfer (client_ownership_transfer), so that there is always exactly one.
ASSIGNABLE_LEVELS = (AccessLevel.ADMIN, AccessLevel.FINANCE_MANAGER, AccessLevel.USER)


def _name(user: User | None) -> str | None:
    """How the event log names a person: the full name, else the email."""
    return (user.get_full_name() or user.email) if user is not None else None


def _mark_changed(client: Client, *, actor: Manager, now: dt.datetime) -> list[str]:
    """Count a change of what the Edit client page shows (its stale-data check
    compares this version); returns the fields to save."""
    client.version += 1
    client.updated_at = now
    client.updated_by = actor.user
    return ["version", "updated_at", "updated_by"]


def _apply_manager(
    client: Client, *, manager: Manager | None, actor: Manager, now: dt.datetime
) -> None:
    old = client.manager
    client.manager = manager
    client_event_record(
        client=client,
        event_type=EventType.MANAGER_CHANGED,
        data={
            "old_manager_id": old.pk if old else None,
            "old_manager": str(old) if old else None,
            "new_manager_id": manager.pk if manager else None,
            "new_manager": str(manager) if manager else None,
            "actor": _name(actor.user),
        },
        actor=actor.user,
        visible_to_client=True,
        created_at=now,
    )


def client_set_manager(*, actor: Manager, client: Client, manager: Manager | None) -> Client:
    """Give the client another responsible manager, an active one of the
    client's reseller, or none; logged (visible to the client) and announced
    as ``client.manager_changed``, in one transaction under the client's row
    lock. Setting the manager the client already has changes and logs
    nothing (a repeated submit). Returns the client as saved."""
    _check_actor(actor=actor, client=client)
    with transaction.atomic():
        locked = _lock_client(client)
        _refuse_if_deleted(locked)
        problem = _manager_problem(manager, reseller_id=locked.reseller_id)
        if problem is not None:
            raise ValidationError({"manager": [problem]})
        if locked.manager_id != (manager.pk if manager else None):
            now = timezone.now()
            locked.manager = (
                Manager.objects.select_related("user").get(pk=locked.manager_id)
                if locked.manager_id
                else None
            )
            _apply_manager(locked, manager=manager, actor=actor, now=now)
            locked.save(update_fields=["manager", *_mark_changed(locked, actor=actor, now=now)])
    client.manager = locked.manager
    client.version = locked.version
    return locked


def _client_user_problem(*, client: Client, user: User) -> ValidationError | None:
    """Why this existing user cannot be given access to the client: the
    client's reseller must reach them (as an owner at creation), and the
    panel's own people are nobody's users (``user_may_own_clients``)."""
    reachable = selectors.user_list_reachable(reseller=client.reseller)
    if not reachable.filter(pk=user.pk).exists():
        return ValidationError(_("Select a user of your reseller's clients."), code="unreachable")
    if not user_may_own_clients(user=user):
        return ValidationError(
            _(
                "Staff, administrators and panel managers cannot be a client's users: "
                "select another user or invite a new one."
            ),
            code="panel_person",
        )
    return None


def _level_problem(level: str) -> ValidationError | None:
    if level in ASSIGNABLE_LEVELS:
        return None
    if level == AccessLevel.OWNER:
        return ValidationError(
            _("The owner changes only by a transfer of ownership."), code="owner_level"
        )
    return ValidationError(_("Choose Admin, Finance manager or User."), code="invalid_level")


def _grant(
    *, client: Client, user: User, level: str, actor: Manager, invited: bool
) -> ClientAccess:
    now = timezone.now()
    access = ClientAccess.objects.create(client=client, user=user, level=level, created_at=now)
    client_event_record(
        client=client,
        event_type=EventType.USER_ADDED,
        data={
            "user_id": user.pk,
            "user": _name(user),
            "level": level,
            "invited": invited,
            "actor": _name(actor.user),
        },
        actor=actor.user,
        visible_to_client=True,
        recipients=[user],
        created_at=now,
    )
    return access


def _already_has_access(access: ClientAccess, *, field: str) -> ValidationError:
    return ValidationError(
        {
            field: [
                ValidationError(
                    _(
                        "%(user)s already has access to this client as %(level)s; "
                        "change the level in the list of users instead."
                    ),
                    code="has_access",
                    params={"user": _name(access.user), "level": access.get_level_display()},
                )
            ]
        }
    )


def client_access_add(
    *, actor: Manager, client: Client, user: User, level: str
) -> tuple[ClientAccess, bool]:
    """Give an existing user access to the client at a level (Admin, Finance
    manager or User). The user must be one the actor reaches, as for the
    owner picker, and no staff, administrator or panel manager. Logged
    (visible to the client) and announced as ``client.user_added`` to the
    user. Returns the access and whether it was made: a repeated submit
    finds the same access at the same level and adds nothing; another level
    is an error that points to changing the level."""
    _check_actor(actor=actor, client=client)
    problem = _level_problem(level)
    if problem is not None:
        raise ValidationError({"level": [problem]})
    problem = _client_user_problem(client=client, user=user)
    if problem is not None:
        raise ValidationError({"user": [problem]})
    with transaction.atomic():
        locked = _lock_client(client)
        _refuse_if_deleted(locked)
        existing = ClientAccess.objects.select_related("user").filter(client=locked, user=user)
        existing = existing.first()
        if existing is not None:
            if existing.level == level:
                return existing, False
            raise _already_has_access(existing, field="user")
        return _grant(client=locked, user=user, level=level, actor=actor, invited=False), True


def client_user_invite(
    *, actor: Manager, client: Client, new_user: NewUser, level: str
) -> tuple[ClientAccess, bool]:
    """Create a new user and give them access to the client at a level, in
    one transaction; the ``client.user_added`` email to them carries the
    password-setup link, as a new owner's does. The name and email are
    checked as a new owner's are (required, the email valid with an ASCII
    local part, nobody's yet in any letter case). Returns the access and
    whether it was made: a repeated submit of the same invitation finds the
    user it made, with this access, and makes nothing."""
    _check_actor(actor=actor, client=client)
    errors = _Errors()
    problem = _level_problem(level)
    if problem is not None:
        errors.add("level", problem)
    new_user = _check_new_user(errors, new_user, prefix="new_user.")
    if errors.by_key and new_user.email:
        # Reported with the other errors in one round; otherwise checked under
        # the client's lock below, where a repeated submit is recognised.
        problem = new_user_email_problem(
            actor=actor, reseller=client.reseller, email=new_user.email, as_owner=False
        )
        if problem is not None:
            errors.add("new_user.email", problem)
    errors.raise_if_any()
    try:
        with transaction.atomic():
            locked = _lock_client(client)
            _refuse_if_deleted(locked)
            existing = User.objects.filter(email__iexact=new_user.email).first()
            if existing is not None:
                access = (
                    ClientAccess.objects.select_related("user")
                    .filter(client=locked, user=existing)
                    .first()
                )
                if access is not None and access.level == level:
                    return access, False
                if access is not None:
                    raise _already_has_access(access, field="new_user.email")
                raise ValidationError({"new_user.email": [_email_taken(client, new_user.email)]})
            user = User.objects.create_user(
                email=new_user.email,
                password=None,
                first_name=new_user.first_name,
                middle_name=new_user.middle_name,
                last_name=new_user.last_name,
            )
            return _grant(client=locked, user=user, level=level, actor=actor, invited=True), True
    except IntegrityError:
        # The same email made a user elsewhere at this moment.
        existing = User.objects.filter(email__iexact=new_user.email).first()
        if existing is None:
            raise
        raise ValidationError({"new_user.email": [_email_taken(client, new_user.email)]}) from None


def _email_taken(client: Client, email: str) -> ValidationError:
    return selectors.new_owner_email_problem(
        reseller=client.reseller, email=email, as_owner=False
    ) or ValidationError(_("A user with this email already exists."), code="email_taken")


def _locked_access(client: Client, user: User) -> ClientAccess | None:
    return (
        ClientAccess.objects.select_for_update(of=("self",))
        .select_related("user")
        .filter(client=client, user=user)
        .first()
    )


def _no_access(user: User) -> ValidationError:
    return ValidationError(
        {
            "user": [
                ValidationError(
                    _("%(user)s has no access to this client."),
                    code="no_access",
                    params={"user": _name(user)},
                )
            ]
        }
    )


def client_access_set_level(
    *, actor: Manager, client: Client, user: User, level: str
) -> tuple[ClientAccess, bool]:
    """Change a user's access level among Admin, Finance manager and User,
    logged (visible to the client) and announced as
    ``client.user_level_changed`` to the user. The owner's level does not
    change here: ownership moves only by ``client_ownership_transfer``.
    Returns the access and whether it changed (a repeated submit does not)."""
    _check_actor(actor=actor, client=client)
    problem = _level_problem(level)
    if problem is not None:
        raise ValidationError({"level": [problem]})
    with transaction.atomic():
        locked = _lock_client(client)
        _refuse_if_deleted(locked)
        access = _locked_access(locked, user)
        if access is None:
            raise _no_access(user)
        if access.level == AccessLevel.OWNER:
            raise ValidationError(
                {
                    "level": [
                        ValidationError(
                            _(
                                "The owner's level cannot be changed: transfer the ownership "
                                "to another user first."
                            ),
                            code="owner_level",
                        )
                    ]
                }
            )
        if access.level == level:
            return access, False
        old_level = access.level
        access.level = level
        access.save(update_fields=["level"])
        client_event_record(
            client=locked,
            event_type=EventType.USER_LEVEL_CHANGED,
            data={
                "user_id": user.pk,
                "user": _name(access.user),
                "old_level": old_level,
                "new_level": level,
                "actor": _name(actor.user),
            },
            actor=actor.user,
            visible_to_client=True,
            recipients=[access.user],
        )
    return access, True


def client_access_remove(*, actor: Manager, client: Client, user: User) -> bool:
    """Take a user's access to the client away (the user stays), logged
    (visible to the client) and announced as ``client.user_removed`` to the
    user. The owner cannot be removed: transfer the ownership first. Returns
    whether an access was removed; a repeated submit finds none and does
    nothing."""
    _check_actor(actor=actor, client=client)
    with transaction.atomic():
        locked = _lock_client(client)
        _refuse_if_deleted(locked)
        access = _locked_access(locked, user)
        if access is None:
            return False
        if access.level == AccessLevel.OWNER:
            raise ValidationError(
                {
                    "user": [
                        ValidationError(
                            _(
                                "The owner cannot be removed: transfer the ownership to "
                                "another user first."
                            ),
                            code="owner_removal",
                        )
                    ]
                }
            )
        level = access.level
        access.delete()
        client_event_record(
            client=locked,
            event_type=EventType.USER_REMOVED,
            data={
                "user_id": user.pk,
                "user": _name(user),
                "level": level,
                "actor": _name(actor.user),
            },
            actor=actor.user,
            visible_to_client=True,
            recipients=[user],
        )
    return True


def client_ownership_transfer(*, actor: Manager, client: Client, user: User) -> bool:
    """Make another user of the client its owner in one step: the old owner
    becomes an Admin. Logged (visible to the client) and announced as
    ``client.ownership_transferred`` to both. The client's row is locked
    first, so transfers at the same moment happen one after the other on
    fresh data and the database's one-owner index always holds. The new
    owner must already be a user of the client, active, and no panel
    person. Returns whether the owner changed: transferring to the owner
    changes nothing (a repeated submit)."""
    _check_actor(actor=actor, client=client)
    with transaction.atomic():
        locked = _lock_client(client)
        _refuse_if_deleted(locked)
        # The users too: the new owner's email goes into the search text, and
        # an email changed in Django admin meanwhile is waited for.
        accesses = list(
            ClientAccess.objects.select_for_update(of=("self", "user"))
            .select_related("user")
            .filter(client=locked)
        )
        target = next((access for access in accesses if access.user_id == user.pk), None)
        if target is None:
            raise ValidationError(
                {
                    "user": [
                        ValidationError(
                            _("%(user)s is not a user of this client: add them first."),
                            code="no_access",
                            params={"user": _name(user)},
                        )
                    ]
                }
            )
        if target.level == AccessLevel.OWNER:
            return False
        if not target.user.is_active or not user_may_own_clients(user=target.user):
            raise ValidationError(
                {
                    "user": [
                        ValidationError(
                            _("%(user)s cannot own a client."),
                            code="cannot_own",
                            params={"user": _name(target.user)},
                        )
                    ]
                }
            )
        old = next((access for access in accesses if access.level == AccessLevel.OWNER), None)
        # The old owner steps down first: the one-owner index is checked per row.
        if old is not None:
            old.level = AccessLevel.ADMIN
            old.save(update_fields=["level"])
        old_level = target.level
        target.level = AccessLevel.OWNER
        target.save(update_fields=["level"])
        locked.search_text = search_text(
            name=locked.name, phone=locked.phone, owner_email=target.user.email
        )
        locked.save(update_fields=["search_text"])
        client_event_record(
            client=locked,
            event_type=EventType.OWNERSHIP_TRANSFERRED,
            data={
                "old_owner_id": old.user_id if old else None,
                "old_owner": _name(old.user) if old else None,
                "new_owner_id": target.user_id,
                "new_owner": _name(target.user),
                "new_owner_old_level": old_level,
                "actor": _name(actor.user),
            },
            actor=actor.user,
            visible_to_client=True,
            recipients=[target.user, *([old.user] if old else [])],
        )
    return True


def client_terms_accept_by_owner(*, client: Client, user: User, address: str | None) -> bool:
    """Record that the client's owner accepted the reseller's terms
    themselves (on the password-setup page or through the one-use link of an
    email): the owner, the time and the address, with an event-log entry the
    client sees (the operator's acceptance stays hidden from the client).
    Only the client's current owner accepts, and only terms that wait for
    them. Returns whether it was recorded now: terms accepted already (a
    second click of the link) record nothing."""
    with transaction.atomic():
        locked = _lock_client(client)
        if locked.terms_status == TermsStatus.ACCEPTED:
            return False
        if locked.terms_status != TermsStatus.PENDING:
            raise ValidationError(_("This client has no terms to accept."), code="no_terms")
        is_owner = ClientAccess.objects.filter(
            client=locked, user=user, level=AccessLevel.OWNER
        ).exists()
        if not is_owner:
            raise ValidationError(_("Only the client's owner accepts its terms."), code="not_owner")
        now = timezone.now()
        locked.terms_status = TermsStatus.ACCEPTED
        locked.terms_accepted_at = now
        locked.terms_accepted_by = None
        locked.terms_accepted_by_owner = user
        locked.terms_accepted_from = address or None
        locked.save(
            update_fields=[
                "terms_status",
                "terms_accepted_at",
                "terms_accepted_by",
                "terms_accepted_by_owner",
                "terms_accepted_from",
            ]
        )
        client_event_record(
            client=locked,
            event_type=EventType.TERMS_ACCEPTED,
            data={
                "owner_id": user.pk,
                "owner": _name(user),
                "terms_url": locked.reseller.terms_url,
                "address": address or "",
            },
            actor=user,
            visible_to_client=True,
            created_at=now,
        )
    client.terms_status = locked.terms_status
    client.terms_accepted_at = locked.terms_accepted_at
    return True


def client_owner_welcome(
    *,
    user: User,
    token: str,
    password: str,
    accept_terms_of: Sequence[Client] = (),
    address: str | None = None,
) -> User:
    """The password-setup page's submit: set the user's password through
    the one-use link (``notifications.services.owner_password_set``) and
    record the owner's acceptance of the terms of ``accept_terms_of``, in one
    transaction: both happen or neither."""
    with transaction.atomic():
        user = owner_password_set(user=user, token=token, password=password)
        for client in accept_terms_of:
            try:
                client_terms_accept_by_owner(client=client, user=user, address=address)
            except ValidationError:
                # The ownership moved since the page was shown: nothing of
                # this user's to accept any more, and the password still counts.
                continue
    return user


# --- client_update: the Edit client page's service ----------------------------------


def _refuse_if_deleted(client: Client) -> None:
    # Deleted is final: the client's details, manager and users stay as they were.
    if client.status == ClientStatus.DELETED:
        raise ValidationError(_("A deleted client cannot be changed."), code="deleted")


@dataclass(frozen=True, kw_only=True)
class _UpdateSections:
    """The inputs of client_update (None: not given, for the dry run)."""

    client_info: ClientInfo | None
    contacts: Contacts | None
    contract_person: ContractPerson | None
    agreements: Agreements | None
    attributes: AttributeValues | None


@dataclass(frozen=True, kw_only=True)
class _CheckedUpdate:
    """The sections once every check passed, as they will be stored."""

    client_info: ClientInfo
    contacts: Contacts
    contract_person: ContractPerson
    attributes: list[Attribute]  # the new type's, as the page shows them
    attribute_values: list[ClientAttributeValue]
    accept_terms: bool


def client_update(
    *,
    actor: Manager,
    client: Client,
    version: int,
    client_info: ClientInfo,
    contacts: Contacts,
    contract_person: ContractPerson,
    agreements: Agreements | None = None,
    attributes: AttributeValues | None = None,
) -> tuple[Client, list[str]]:
    """Change a client's details: the sections of the Add client page but the
    owner, checked by the same rules as ``client_create`` (the same check
    functions), saved in one transaction under the client's row lock.

    ``version`` is the ``Client.version`` the page was read at: when someone
    saved the client since, a save that would change anything is refused
    ("changed by X at T, reload") instead of overwriting their change; a
    repeated submit of a saved page changes nothing and passes. A key left
    out of ``attributes`` keeps its stored value. Changing the client type
    is refused when the new type needs attributes this page cannot fill, or
    would drop values this page cannot show. The postpay permission is not
    changed here (``client_decide_postpay`` decides it); ``agreements``
    accepts terms still waiting, on the client's behalf.

    The event log gets one ``client.updated`` entry listing each change, old
    → new (attributes by name; passwords and attributes masked in the log
    shown masked), a ``client.manager_changed`` entry (and its notification)
    for a new manager, and the manager's acceptance of the terms (hidden from
    the client). Returns the client and the keys of what changed
    (``<section>.<field>``), empty when nothing did."""
    _check_actor(actor=actor, client=client)
    sections = _UpdateSections(
        client_info=client_info,
        contacts=contacts,
        contract_person=contract_person,
        agreements=agreements or Agreements(),
        attributes=attributes if attributes is not None else {},
    )
    with transaction.atomic():
        locked = _lock_client(client)
        _refuse_if_deleted(locked)
        errors = _Errors()
        checked = _checked_update(errors, actor=actor, client=locked, sections=sections)
        changes = _changes(locked, checked) if checked is not None else []
        if version != locked.version:
            if errors.by_key or changes:
                raise _stale(locked)
            return locked, []
        errors.raise_if_any()
        if changes:
            _update_write(locked, checked=checked, changes=changes, actor=actor)
    return locked, [change["field"] for change in changes]


def client_update_check(
    *,
    actor: Manager,
    client: Client,
    client_info: ClientInfo | None = None,
    contacts: Contacts | None = None,
    contract_person: ContractPerson | None = None,
    agreements: Agreements | None = None,
    attributes: AttributeValues | None = None,
) -> ValidationError | None:
    """The errors ``client_update`` would raise for these sections, or None,
    and nothing written: the page shows them beside its own forms' errors in
    the same round. A section given as None is not checked."""
    sections = _UpdateSections(
        client_info=client_info,
        contacts=contacts,
        contract_person=contract_person,
        agreements=agreements,
        attributes=attributes,
    )
    errors = _Errors()
    _checked_update(errors, actor=actor, client=client, sections=sections)
    return ValidationError(errors.by_key) if errors.by_key else None


def _checked_update(
    errors: _Errors, *, actor: Manager, client: Client, sections: _UpdateSections
) -> _CheckedUpdate | None:
    """Every check of client_update, section by section in page order; the
    failures are collected in ``errors``. None when a section is missing or
    failed."""
    reseller = client.reseller
    settings = rules_selectors.account_validation_settings()
    info = sections.client_info
    checked_info = None
    if info is not None:
        # The postpay permission is not the page's to change: the stored one
        # passes the check as it is.
        info = replace(
            info,
            postpay_permission=client.postpay_permission if reseller.postpay_is_manual else None,
        )
        # Keeping a manager who has stopped being active is no new choice.
        keep_manager = info.manager is not None and info.manager.pk == client.manager_id
        checked_info = _check_client_info(
            errors,
            replace(info, manager=None) if keep_manager else info,
            reseller=reseller,
            settings=settings,
        )
        if checked_info is not None:
            checked_info = replace(checked_info, manager=info.manager)
            _check_type_change(errors, client=client, client_type=info.client_type)
    contacts = _check_contacts(errors, sections.contacts, reseller=reseller, settings=settings)
    person = _check_contract_person(errors, sections.contract_person)
    attributes, values = [], None
    if sections.attributes is not None and info is not None:
        attributes = (
            rules_selectors.attribute_list_for_create(client_type=info.client_type)
            if info.client_type.reseller_id == reseller.pk
            else []
        )
        stored = selectors.client_attribute_values(client=client)
        kept = {item.key: stored[item.key] for item in attributes if item.key in stored}
        values = {**kept, **sections.attributes}
    attribute_values = _check_attributes(errors, values, client_info=info, reseller=reseller)
    accept_terms = bool(
        sections.agreements is not None
        and sections.agreements.accepted
        and reseller.terms_required
        and client.terms_status != TermsStatus.ACCEPTED
    )
    if errors.by_key or None in (checked_info, contacts, person, values):
        return None
    return _CheckedUpdate(
        client_info=checked_info,
        contacts=contacts,
        contract_person=person,
        attributes=attributes,
        attribute_values=attribute_values,
        accept_terms=accept_terms,
    )


def _check_type_change(errors: _Errors, *, client: Client, client_type: ClientType) -> None:
    """A new type only where this page can give the client everything the
    type needs and keep everything the client has: refused when the type
    requires attributes the page does not show (read-only for admin), or
    when the client has values of such attributes that the type lacks."""
    if client_type.pk == client.client_type_id or client_type.reseller_id != client.reseller_id:
        return
    key = "client_info.client_type"
    needed = rules_selectors.attribute_list_hidden_required(client_type=client_type)
    if needed:
        errors.add(
            key,
            ValidationError(
                _(
                    "The type %(type)s needs attributes this page cannot fill (%(names)s): "
                    "ask an administrator to change the type."
                ),
                code="type_needs_hidden",
                params={"type": client_type.name, "names": ", ".join(a.name for a in needed)},
            ),
        )
    lost = selectors.client_hidden_values_lost(client=client, client_type=client_type)
    if lost:
        errors.add(
            key,
            ValidationError(
                _(
                    "Changing the type to %(type)s would remove %(names)s, which this page "
                    "cannot show: ask an administrator to change the type."
                ),
                code="type_drops_hidden",
                params={"type": client_type.name, "names": ", ".join(lost)},
            ),
        )


def _stale(client: Client) -> ValidationError:
    """The refusal of a save that started from data someone has changed since."""
    if client.updated_at is None:
        return ValidationError(
            _("This client has changed since you opened the page: reload it and try again."),
            code="stale",
        )
    who = client.updated_by
    return ValidationError(
        _(
            "%(who)s changed this client at %(when)s, after you opened the page: reload it to "
            "see the changes, then make yours again."
        ),
        code="stale",
        params={
            "who": _name(who) or _("Someone"),
            "when": date_format(timezone.localtime(client.updated_at), "SHORT_DATETIME_FORMAT"),
        },
    )


MASK = "••••••"


def _logged(attribute: Attribute, value: str) -> str:
    """How the event log keeps an attribute's value: passwords never, the
    attributes masked in the log by their last two characters at most, a
    list option by its name."""
    if not value:
        return ""
    if attribute.value_type == AttributeValueType.PASSWORD:
        return MASK
    if attribute.masked_in_log:
        return "•••" + value[-2:] if len(value) > 4 else "•••"
    if attribute.value_type == AttributeValueType.LIST:
        names = {option.key: option.name for option in attribute.options.all()}
        return names.get(value, value)
    return value


# The client's own fields the page edits: the change's key → the model field.
_UPDATED_FIELDS = {
    "client_info.client_type": "client_type",
    "client_info.company_name": "company_name",
    "client_info.service_rule": "service_rule",
    "client_info.name": "name",
    **{f"contacts.{name}": name for name in Contacts.__dataclass_fields__},
    **{
        f"contract_person.{name}": f"contract_{name}"
        for name in ContractPerson.__dataclass_fields__
    },
}


def _new_field_values(checked: _CheckedUpdate) -> dict[str, object]:
    info = checked.client_info
    return {
        "client_type": info.client_type,
        "company_name": info.company_name,
        "service_rule": info.service_rule,
        "name": _display_name(info.client_type, info.company_name, checked.contract_person),
        **asdict(checked.contacts),
        **{f"contract_{name}": value for name, value in asdict(checked.contract_person).items()},
    }


def _changes(client: Client, checked: _CheckedUpdate) -> list[dict]:
    """What the save changes, one entry per field: its key, the old and the
    new value as the log keeps them (names of types, rules and people,
    country codes, attributes masked where they must be)."""
    new = _new_field_values(checked)
    changes = []
    for key, field in _UPDATED_FIELDS.items():
        old_value, new_value = getattr(client, field), new[field]
        if field == "country":
            old_value = old_value.code
        if old_value == new_value:
            continue
        change = {"field": key, "old": str(old_value), "new": str(new_value)}
        if field == "company_name":
            change["label"] = checked.client_info.client_type.primary_name or client.company_name
        if field == "country":
            change["kind"] = "country"
        changes.append(change)
    manager = checked.client_info.manager
    if client.manager_id != (manager.pk if manager else None):
        changes.append({"field": "client_info.manager"})
    changes.extend(_attribute_changes(client, checked))
    if checked.accept_terms:
        changes.append({"field": "agreements.accepted"})
    return changes


def _attribute_changes(client: Client, checked: _CheckedUpdate) -> list[dict]:
    """The attributes on the page with another value, and the client's values
    of attributes the new type does not have (they go)."""
    stored = {
        row.attribute_id: row
        for row in ClientAttributeValue.objects.filter(client=client)
        .select_related("attribute")
        .prefetch_related("attribute__options")
    }
    new = {row.attribute_id: row.value for row in checked.attribute_values}
    on_page = {attribute.pk: attribute for attribute in checked.attributes}
    of_new_type = set(
        Attribute.objects.filter(client_types=checked.client_info.client_type).values_list(
            "pk", flat=True
        )
    )
    changes = []
    for attribute_id, attribute in on_page.items():
        old_value = stored[attribute_id].value if attribute_id in stored else ""
        new_value = new.get(attribute_id, "")
        if old_value != new_value:
            changes.append(_attribute_change(attribute, old_value, new_value))
    for attribute_id, row in stored.items():
        if attribute_id not in on_page and attribute_id not in of_new_type:
            changes.append(_attribute_change(row.attribute, row.value, ""))
    return changes


def _attribute_change(attribute: Attribute, old_value: str, new_value: str) -> dict:
    return {
        "field": f"attributes.{attribute.key}",
        "label": attribute.name,
        "kind": attribute.value_type,
        "attribute_id": attribute.pk,
        "old": _logged(attribute, old_value),
        "new": _logged(attribute, new_value),
    }


def _update_write(
    client: Client, *, checked: _CheckedUpdate, changes: list[dict], actor: Manager
) -> None:
    """Save the changes, the attribute values and the event-log entries."""
    now = timezone.now()
    values = _new_field_values(checked)
    fields = [
        _UPDATED_FIELDS[change["field"]] for change in changes if change["field"] in _UPDATED_FIELDS
    ]
    for field in fields:
        setattr(client, field, values[field])
    details = [change for change in changes if change["field"] in _UPDATED_FIELDS]
    details += [change for change in changes if change["field"].startswith("attributes.")]
    if details:
        client_event_record(
            client=client,
            actor=actor.user,
            event_type=EventType.CLIENT_UPDATED,
            data={"actor": _name(actor.user), "changes": details},
            visible_to_client=True,
            created_at=now,
        )
    manager = checked.client_info.manager
    if client.manager_id != (manager.pk if manager else None):
        client.manager = (
            Manager.objects.select_related("user").get(pk=client.manager_id)
            if client.manager_id
            else None
        )
        _apply_manager(client, manager=manager, actor=actor, now=now)
        fields.append("manager")
    if checked.accept_terms:
        client.terms_status = TermsStatus.ACCEPTED
        client.terms_accepted_at = now
        client.terms_accepted_by = actor
        fields += ["terms_status", "terms_accepted_at", "terms_accepted_by"]
        client_event_record(
            client=client,
            actor=actor.user,
            event_type=EventType.TERMS_ACCEPTED,
            data={
                "manager_id": actor.pk,
                "manager": str(actor),
                "terms_url": client.reseller.terms_url,
            },
            visible_to_client=False,
            created_at=now,
        )
    if "name" in fields or "phone" in fields:
        client.search_text = search_text(
            name=client.name, phone=client.phone, owner_email=_owner_email(client)
        )
        fields.append("search_text")
    client.save(update_fields=[*fields, *_mark_changed(client, actor=actor, now=now)])
    _attribute_values_write(client, checked=checked, changes=changes)


def _owner_email(client: Client) -> str | None:
    return (
        ClientAccess.objects.filter(client=client, level=AccessLevel.OWNER)
        .values_list("user__email", flat=True)
        .first()
    )


def client_search_text_refresh(*, client_ids: Iterable[int] | None = None) -> int:
    """Write the list's search text (clients/search.py) again from each
    client's name, phone and current owner's email, where it differs: for the
    given clients, or for all of them. The pages' services keep it as they
    write; this is for an owner's email changed in Django admin and for rows
    loaded by hand (``manage.py client_search_rebuild``). Batch by batch in
    key order, each batch one transaction: its clients' rows are locked
    first and read after, so that a transfer or an edit of one of them that
    was under way is waited for and its result read, not written over with
    what was there before it. Returns how many were written."""
    clients = Client.objects.order_by("pk")
    if client_ids is not None:
        clients = clients.filter(pk__in=list(client_ids))
    owner_email = ClientAccess.objects.filter(client=OuterRef("pk"), level=AccessLevel.OWNER)
    rows = Client.objects.annotate(
        owner_email=Subquery(owner_email.values("user__email")[:1])
    ).values_list("pk", "name", "phone", "owner_email", "search_text")
    table = connection.ops.quote_name(Client._meta.db_table)
    statement = f"UPDATE {table} SET search_text = %s WHERE id = %s"  # noqa: S608 - a table name
    written, last = 0, 0
    while True:
        with transaction.atomic():
            locked = list(
                clients.filter(pk__gt=last)
                .select_for_update()
                .values_list("pk", flat=True)[:SEARCH_TEXT_REFRESH_BATCH]
            )
            if not locked:
                return written
            # A second statement: it sees what committed while the lock waited.
            changed = []
            for pk, name, phone, email, stored in rows.filter(pk__in=locked):
                text = search_text(name=name, phone=phone, owner_email=email)
                if text != stored:
                    changed.append((text, pk))
            if changed:
                with connection.cursor() as cursor:
                    cursor.executemany(statement, changed)
        written += len(changed)
        last = locked[-1]


def _attribute_values_write(
    client: Client, *, checked: _CheckedUpdate, changes: list[dict]
) -> None:
    changed = {change["attribute_id"] for change in changes if "attribute_id" in change}
    new = {row.attribute_id: row.value for row in checked.attribute_values}
    ClientAttributeValue.objects.filter(client=client, attribute_id__in=changed).delete()
    ClientAttributeValue.objects.bulk_create(
        ClientAttributeValue(client=client, attribute_id=attribute_id, value=new[attribute_id])
        for attribute_id in changed
        if new.get(attribute_id)
    )
