"""Writes about clients: every change of a client happens here, in one
transaction, with its event-log entry and its notification."""

import datetime as dt
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.core.validators import MaxLengthValidator, validate_email
from django.db import IntegrityError, models, transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from clients.events import choice_label, event_wording
from clients.models import (
    AccessLevel,
    Client,
    ClientAccess,
    ClientAttributeValue,
    ClientEvent,
    ClientStatus,
    EventType,
    PostpayPermission,
    TermsStatus,
)
from clients.selectors import user_list_owner_candidates, user_list_reachable
from notifications.services import notify, owner_password_set
from rules import selectors as rules_selectors
from rules import validation
from rules.models import ClientType, ServiceRule
from users.models import Manager, ManagerStatus, User
from users.selectors import user_may_own_clients
from users.validators import phone_to_e164, validate_email_local_part_ascii

# --- client_create: the Add client page's service and its private helpers ---------


class DuplicateSubmission(Exception):
    """The page's one-time token already made a client; nothing new was created."""

    def __init__(self, client: Client) -> None:
        super().__init__(f"Client #{client.pk} was already created from this page.")
        self.client = client


@dataclass(frozen=True, kw_only=True)
class NewOwner:
    """The user to create as the client's owner."""

    first_name: str
    last_name: str
    email: str
    middle_name: str = ""


# Contact fields that must be Latin when the reseller asks for it.
LATIN_CONTACT_FIELDS = ("region", "city", "postal_code", "address_line1", "address_line2", "email")
REQUIRED = _("This field is required.")


def new_owner_email_problem(*, actor: Manager, email: str) -> ValidationError | None:
    """The error for a new owner's email that already belongs to a user, in any
    letter case. It offers that user instead (``params["user_id"]``) when the
    actor may select them, and names nobody otherwise."""
    existing = User.objects.filter(email__iexact=email.strip()).first()
    if existing is None:
        return None
    if user_list_owner_candidates(reseller=actor.reseller).filter(pk=existing.pk).exists():
        return ValidationError(
            _("%(user)s already has this email: select this user as the owner instead."),
            code="email_taken",
            params={"user": str(existing), "user_id": existing.pk},
        )
    return ValidationError(
        _(
            "A user with this email already exists but is not one of your clients' users; "
            "use another email or ask an administrator."
        ),
        code="email_taken",
        params={"user_id": None},
    )


def client_create(
    *,
    actor: Manager,
    client_type: ClientType,
    service_rule: ServiceRule,
    country: str,
    city: str,
    address_line1: str,
    phone: str,
    email: str,
    contract_first_name: str,
    contract_last_name: str,
    contract_email: str,
    company_name: str = "",
    manager: Manager | None = None,
    postpay_permission: str | None = None,
    region: str = "",
    postal_code: str = "",
    address_line2: str = "",
    contract_middle_name: str = "",
    owner: User | None = None,
    new_owner: NewOwner | None = None,
    terms_accepted: bool = False,
    attributes: Mapping[str, object] | None = None,
    creation_token: uuid.UUID | None = None,
) -> Client:
    """Create a client of the actor's reseller, the only way a client is born.

    Everything is validated here again, whatever the page checked: the type,
    rule, manager and owner must be the actor's reseller's, the manager Active,
    the owner nobody of the panel's own (staff, superusers, managers; see
    ``users.selectors.user_may_own_clients``),
    the company name and region allowed by the installation, the contacts Latin
    when the reseller asks, the attributes as their definitions say, and there
    is exactly one owner: ``owner`` (an existing user) or ``new_owner``.
    Failures raise ``ValidationError`` with a dict keyed by argument name
    (``new_owner.<field>`` and ``attributes.<key>`` for those parts).

    Then one transaction writes the client (status Active), the new owner
    (without a usable password: the notification's link sets it; an owner
    who has a password gets the email without a link), the Owner
    access, the attribute values, the event log and the queued "client
    created" notification.

    ``creation_token`` is the page's one-time token: when a client was already
    made with it, ``DuplicateSubmission`` carries that client and nothing new
    is written, also when two submits race each other.
    """
    reseller = actor.reseller
    if creation_token is not None:
        _raise_if_already_created(creation_token, reseller_id=reseller.pk)

    errors: dict[str, list[ValidationError]] = {}

    def fail(field: str, error: ValidationError | str) -> None:
        if not isinstance(error, ValidationError):
            error = ValidationError(error)
        errors.setdefault(field, []).append(error)

    if actor.status != ManagerStatus.ACTIVE:
        fail(NON_FIELD_ERRORS, _("Only an active manager can create clients."))
    if client_type.reseller_id != reseller.pk:
        fail("client_type", _("Select a client type of your reseller."))
    if service_rule.reseller_id != reseller.pk:
        fail("service_rule", _("Select a service rule of your reseller."))
    if manager is not None:
        if manager.reseller_id != reseller.pk:
            fail("manager", _("Select a manager of your reseller."))
        elif manager.status != ManagerStatus.ACTIVE:
            fail("manager", _("Select an active manager."))

    settings = rules_selectors.account_validation_settings()
    company_name = company_name.strip()
    if client_type.has_company_name:
        too_long = _too_long(Client, "company_name", company_name)
        if not company_name:
            fail("company_name", REQUIRED)
        elif too_long is not None:
            # What cannot be stored is refused as the form refuses it; the
            # name rules would only quote parts of it.
            fail("company_name", too_long)
        else:
            for problem in validation.company_name_problems(company_name, settings=settings):
                fail("company_name", problem)
    elif company_name:
        fail("company_name", _("This client type has no company name."))

    if reseller.postpay_is_manual:
        if postpay_permission not in PostpayPermission.values:
            fail("postpay_permission", _("Select the postpay permission."))
    elif postpay_permission is not None:
        fail("postpay_permission", _("Postpay is allowed automatically for this reseller."))
    else:
        # Automatic mode: the platform checks the client later; until then the
        # permission says so.
        postpay_permission = PostpayPermission.NOT_VERIFIED

    contacts = {
        "region": region.strip(),
        "city": city.strip(),
        "postal_code": postal_code.strip(),
        "address_line1": address_line1.strip(),
        "address_line2": address_line2.strip(),
        "email": email.strip(),
    }
    if country not in {code for code, _name in reseller.country_choices()}:
        fail("country", _("Select one of the countries your reseller serves."))
    for field in ("city", "address_line1", "email"):
        if not contacts[field]:
            fail(field, REQUIRED)
    if contacts["region"]:
        _collect(fail, "region", validation.validate_region, contacts["region"], settings=settings)
    if reseller.latin_contacts:
        for field in LATIN_CONTACT_FIELDS:
            _collect(fail, field, validation.validate_latin, contacts[field])
    try:
        phone = phone_to_e164(phone.strip(), region=country)
    except ValidationError as error:
        fail("phone", error)

    contract = {
        "contract_first_name": contract_first_name.strip(),
        "contract_middle_name": contract_middle_name.strip(),
        "contract_last_name": contract_last_name.strip(),
        "contract_email": contract_email.strip(),
    }
    for field in ("contract_first_name", "contract_last_name", "contract_email"):
        if not contract[field]:
            fail(field, REQUIRED)

    if owner is not None and new_owner is not None:
        fail("owner", _("Select an existing user or create a new one, not both."))
    elif owner is None and new_owner is None:
        fail("owner", _("Select the owner or create a new user."))
    elif owner is not None:
        if not user_list_reachable(reseller=reseller).filter(pk=owner.pk).exists():
            fail("owner", _("Select a user of your reseller's clients."))
        elif not user_may_own_clients(user=owner):
            fail(
                "owner",
                _(
                    "Staff, administrators and panel managers cannot own a client: "
                    "select another user or create a new one."
                ),
            )
    else:
        new_owner = NewOwner(
            first_name=new_owner.first_name.strip(),
            middle_name=new_owner.middle_name.strip(),
            last_name=new_owner.last_name.strip(),
            email=User.objects.normalize_email(new_owner.email.strip()),
        )
        for field in ("first_name", "last_name", "email"):
            if not getattr(new_owner, field):
                fail(f"new_owner.{field}", REQUIRED)
        # The user is not checked by full_clean below: a name longer than its
        # column would otherwise reach the database and fail there.
        for field in ("first_name", "middle_name", "last_name"):
            too_long = _too_long(User, field, getattr(new_owner, field))
            if too_long is not None:
                fail(f"new_owner.{field}", too_long)
        if new_owner.email:
            try:
                validate_email(new_owner.email)
                validate_email_local_part_ascii(new_owner.email)
            except ValidationError as error:
                fail("new_owner.email", error)
            else:
                problem = new_owner_email_problem(actor=actor, email=new_owner.email)
                if problem is not None:
                    fail("new_owner.email", problem)

    attribute_values: list[ClientAttributeValue] = []
    if client_type.reseller_id == reseller.pk:
        attribute_values = _clean_attributes(client_type, attributes or {}, fail)

    now = timezone.now()
    terms_status = TermsStatus.NOT_REQUESTED
    if reseller.terms_required:
        terms_status = TermsStatus.ACCEPTED if terms_accepted else TermsStatus.PENDING
    decided = postpay_permission in (PostpayPermission.APPROVED, PostpayPermission.DECLINED)
    client = Client(
        reseller=reseller,
        client_type=client_type,
        company_name=company_name if client_type.has_company_name else "",
        name=_display_name(client_type, company_name, contract),
        manager=manager,
        service_rule=service_rule,
        postpay_permission=postpay_permission or PostpayPermission.NOT_VERIFIED,
        postpay_decided_at=now if decided and reseller.postpay_is_manual else None,
        postpay_decided_by=actor.user if decided and reseller.postpay_is_manual else None,
        status=ClientStatus.ACTIVE,
        country=country,
        phone=phone,
        terms_status=terms_status,
        terms_accepted_at=now if terms_status == TermsStatus.ACCEPTED else None,
        terms_accepted_by=actor if terms_status == TermsStatus.ACCEPTED else None,
        created_at=now,
        created_by=actor.user,
        creation_token=creation_token,
        **contacts,
        **contract,
    )
    # The model's own field checks (lengths, email format, E.164) catch what the
    # rules above do not; fields already failing are not reported twice.
    try:
        client.full_clean(exclude=[*errors, "name"], validate_unique=False)
    except ValidationError as error:
        for field, messages in error.message_dict.items():
            for message in messages:
                fail(field, message)
    if errors:
        if creation_token is not None:
            # A submit racing another of the same page fails here when the other
            # one committed after the look-up above (its new owner's email is
            # taken by then): the page has made its client, so lead to it.
            _raise_if_already_created(creation_token, reseller_id=reseller.pk)
        raise ValidationError(errors)

    try:
        with transaction.atomic():
            # The client row goes first: a second submit racing this one stops at
            # its unique creation token before writing anything else.
            client.save(force_insert=True)
            if owner is None:
                owner = User.objects.create_user(
                    email=new_owner.email,
                    password=None,
                    first_name=new_owner.first_name,
                    middle_name=new_owner.middle_name,
                    last_name=new_owner.last_name,
                )
            ClientAccess.objects.create(
                client=client, user=owner, level=AccessLevel.OWNER, created_at=now
            )
            for value in attribute_values:
                value.client = client
            ClientAttributeValue.objects.bulk_create(attribute_values)
            _log_creation(client, actor=actor, now=now)
            notify(event=EventType.CLIENT_CREATED, client=client, actor=actor.user)
    except IntegrityError:
        client.pk = None
        if creation_token is not None:
            _raise_if_already_created(creation_token, reseller_id=reseller.pk)
        if new_owner is not None and owner is None:
            problem = new_owner_email_problem(actor=actor, email=new_owner.email)
            if problem is not None:
                raise ValidationError({"new_owner.email": [problem]}) from None
        raise
    return client


def _raise_if_already_created(token: uuid.UUID, *, reseller_id: int) -> None:
    existing = Client.objects.filter(creation_token=token).first()
    if existing is None:
        return
    if existing.reseller_id != reseller_id:
        raise ValidationError({NON_FIELD_ERRORS: [_("This page has expired; open it again.")]})
    raise DuplicateSubmission(existing)


def _too_long(model: type[models.Model], field: str, value: str) -> ValidationError | None:
    """The form's own message for a value longer than the field's column."""
    try:
        MaxLengthValidator(model._meta.get_field(field).max_length)(value)
    except ValidationError as error:
        return error
    return None


def _collect(fail, field: str, check, value: str, **kwargs) -> None:
    try:
        check(value, **kwargs)
    except ValidationError as error:
        fail(field, error)


def _display_name(client_type: ClientType, company_name: str, contract: dict[str, str]) -> str:
    name = client_type.build_display_name(
        primary_name=company_name,
        first_name=contract["contract_first_name"],
        middle_name=contract["contract_middle_name"],
        last_name=contract["contract_last_name"],
    )
    if not name:
        # A pattern of only %primary_name on a type without one: fall back to
        # the contract person rather than a nameless client.
        name = " ".join(
            part
            for part in (contract["contract_last_name"], contract["contract_first_name"])
            if part
        )
    return name[: Client._meta.get_field("name").max_length]


def _clean_attributes(
    client_type: ClientType, values: Mapping[str, object], fail
) -> list[ClientAttributeValue]:
    """Check the values against the type's attributes shown on the page; a key
    missing from ``values`` takes the attribute's default."""
    attributes = rules_selectors.attribute_list_for_create(client_type=client_type)
    known = {attribute.key for attribute in attributes}
    for key in values:
        if key not in known:
            fail(
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
        try:
            text = validation.clean_attribute_value(attribute, raw)
        except ValidationError as error:
            fail(f"attributes.{attribute.key}", error)
            continue
        if text:
            rows.append(ClientAttributeValue(attribute=attribute, value=text))
    return rows


def _event(*, event_type: str, data: dict, **fields) -> ClientEvent:
    """An event-log entry worded from its data (clients/events.py), which the
    client page words again in its reader's language."""
    subject, description = event_wording(event_type, data)
    return ClientEvent(
        event_type=event_type, subject=subject, description=description, data=data, **fields
    )


def _log_creation(client: Client, *, actor: Manager, now) -> None:
    events = [
        _event(
            event_type=EventType.CLIENT_CREATED,
            data={"manager_id": actor.pk, "manager": str(actor)},
            client=client,
            created_at=now,
            actor=actor.user,
            visible_to_client=True,
        )
    ]
    if client.terms_status == TermsStatus.ACCEPTED:
        events.append(
            _event(
                event_type=EventType.TERMS_ACCEPTED,
                data={
                    "manager_id": actor.pk,
                    "manager": str(actor),
                    "terms_url": client.reseller.terms_url,
                },
                client=client,
                created_at=now,
                actor=actor.user,
                visible_to_client=False,
            )
        )
    ClientEvent.objects.bulk_create(events)


# --- Status changes and postpay decisions ----------------------------------------

# Where a manager may move a client from each status (DESIGN.md, "Statuses").
# Credit hold is never a manager's target: only the system sets it, through
# client_set_credit_hold. Deleted is final.
STATUS_TRANSITIONS: dict[str, frozenset[str]] = {
    ClientStatus.ACTIVE: frozenset({ClientStatus.ADMINISTRATIVE_HOLD, ClientStatus.DELETED}),
    ClientStatus.CREDIT_HOLD: frozenset(
        {ClientStatus.ACTIVE, ClientStatus.ADMINISTRATIVE_HOLD, ClientStatus.DELETED}
    ),
    ClientStatus.ADMINISTRATIVE_HOLD: frozenset({ClientStatus.ACTIVE, ClientStatus.DELETED}),
    ClientStatus.DELETED: frozenset(),
}
POSTPAY_UNDECIDED = frozenset({PostpayPermission.NOT_VERIFIED, PostpayPermission.APPROVAL_REQUIRED})
POSTPAY_DECISIONS = frozenset({PostpayPermission.APPROVED, PostpayPermission.DECLINED})


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


def _check_actor(*, actor: Manager, client: Client) -> None:
    # Views reach clients through the scoped selectors; this guards other callers.
    in_scope = actor.reseller.is_root or actor.reseller_id == client.reseller_id
    if actor.status != ManagerStatus.ACTIVE or not in_scope:
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
    _event(
        event_type=EventType.STATUS_CHANGED,
        data={
            "old_status": old_status,
            "new_status": status,
            "actor": (actor.get_full_name() or actor.email) if actor is not None else None,
        },
        client=client,
        actor=actor,
        visible_to_client=True,
    ).save()
    notify(event=EventType.STATUS_CHANGED, client=client, actor=actor)


def client_set_status(*, actor: Manager, client: Client, status: str) -> Client:
    """Move the client to another status on a manager's decision, with its
    event-log entry and the ``client.status_changed`` notification, in one
    transaction. The move is checked against the row's current status under a
    lock; a move STATUS_TRANSITIONS does not allow raises ValidationError.
    Returns the updated client (the given instance gets the new status too)."""
    _check_actor(actor=actor, client=client)
    with transaction.atomic():
        locked = _lock_client(client)
        if status not in STATUS_TRANSITIONS.get(locked.status, frozenset()):
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
    required"; anything else raises ValidationError. The event-log entry is
    hidden from the client: the verification is the reseller's own business."""
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
        if locked.postpay_decided_at is not None or (
            locked.postpay_permission not in POSTPAY_UNDECIDED
        ):
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
        _event(
            event_type=EventType.POSTPAY_DECIDED,
            data={
                "old_permission": old_permission,
                "new_permission": decision,
                "actor": actor.user.get_full_name() or actor.user.email,
            },
            client=locked,
            created_at=locked.postpay_decided_at,
            actor=actor.user,
            visible_to_client=False,
        ).save()
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


def _log_action(
    *,
    client: Client,
    event_type: str,
    data: dict,
    actor: User | None,
    visible_to_client: bool,
    recipients: Sequence[User] | None = None,
    created_at: dt.datetime | None = None,
) -> ClientEvent:
    """Write one event-log entry and, for an entry the client may see, queue
    its notification (the reseller's event handler decides whether one goes
    out; ``recipients`` default to the owner) in the caller's transaction. An
    entry hidden from the client is never announced to the client."""
    entry = _event(
        event_type=event_type,
        data=data,
        client=client,
        actor=actor,
        visible_to_client=visible_to_client,
        created_at=created_at or timezone.now(),
    )
    entry.save()
    if visible_to_client:
        notify(event=event_type, client=client, actor=actor, recipients=recipients, log_entry=entry)
    return entry


def _mark_changed(client: Client, *, actor: Manager, now: dt.datetime) -> list[str]:
    """Count a change of what the Edit client page shows (its stale-data check
    compares this version); returns the fields to save."""
    client.version += 1
    client.updated_at = now
    client.updated_by = actor.user
    return ["version", "updated_at", "updated_by"]


def manager_problem(*, manager: Manager | None, reseller_id: int) -> str | None:
    """Why this manager cannot be the client's responsible manager, or None:
    only an active manager of the client's own reseller (or nobody) can."""
    if manager is None:
        return None
    if manager.reseller_id != reseller_id:
        return _("Select a manager of your reseller.")
    if manager.status != ManagerStatus.ACTIVE:
        return _("Select an active manager.")
    return None


def _apply_manager(
    client: Client, *, manager: Manager | None, actor: Manager, now: dt.datetime
) -> None:
    old = client.manager
    client.manager = manager
    _log_action(
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
        problem = manager_problem(manager=manager, reseller_id=locked.reseller_id)
        if problem is not None:
            raise ValidationError({"manager": [ValidationError(problem, code="invalid_manager")]})
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


def _client_user_problem(*, actor: Manager, user: User) -> ValidationError | None:
    """Why the actor may not give this existing user access to a client: the
    same reach and the same exclusion of the panel's own people as an owner
    (users.selectors.user_may_own_clients)."""
    if not user_list_reachable(reseller=actor.reseller).filter(pk=user.pk).exists():
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
    _log_action(
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
    problem = _client_user_problem(actor=actor, user=user)
    if problem is not None:
        raise ValidationError({"user": [problem]})
    with transaction.atomic():
        locked = _lock_client(client)
        existing = ClientAccess.objects.select_related("user").filter(client=locked, user=user)
        existing = existing.first()
        if existing is not None:
            if existing.level == level:
                return existing, False
            raise _already_has_access(existing, field="user")
        return _grant(client=locked, user=user, level=level, actor=actor, invited=False), True


@dataclass(frozen=True, kw_only=True)
class NewUser:
    """A person to invite as a client's user: created without a password,
    which they set through the link of the ``client.user_added`` email."""

    first_name: str
    last_name: str
    email: str
    middle_name: str = ""


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
    errors: dict[str, list[ValidationError]] = {}

    def fail(field: str, error: ValidationError | str) -> None:
        errors.setdefault(field, []).append(
            error if isinstance(error, ValidationError) else ValidationError(error)
        )

    problem = _level_problem(level)
    if problem is not None:
        fail("level", problem)
    new_user = NewUser(
        first_name=new_user.first_name.strip(),
        middle_name=new_user.middle_name.strip(),
        last_name=new_user.last_name.strip(),
        email=User.objects.normalize_email(new_user.email.strip()),
    )
    for field in ("first_name", "last_name", "email"):
        if not getattr(new_user, field):
            fail(f"new_user.{field}", REQUIRED)
    for field in ("first_name", "middle_name", "last_name", "email"):
        # The column's own limit, with Django's message.
        _collect(
            fail,
            f"new_user.{field}",
            MaxLengthValidator(User._meta.get_field(field).max_length),
            getattr(new_user, field),
        )
    if new_user.email and "new_user.email" not in errors:
        try:
            validate_email(new_user.email)
            validate_email_local_part_ascii(new_user.email)
        except ValidationError as error:
            fail("new_user.email", error)
        else:
            # With other errors, reported in the same round; otherwise checked
            # under the lock below, where a repeated submit is recognised.
            existing = User.objects.filter(email__iexact=new_user.email).first() if errors else None
            if existing is not None:
                fail("new_user.email", _user_email_taken(actor, existing))
    if errors:
        raise ValidationError(errors)
    try:
        with transaction.atomic():
            locked = _lock_client(client)
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
                raise ValidationError({"new_user.email": [_user_email_taken(actor, existing)]})
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
        raise ValidationError({"new_user.email": [_user_email_taken(actor, existing)]}) from None


def _user_email_taken(actor: Manager, existing: User) -> ValidationError:
    """A new user's email that is someone's already: offer that user when the
    actor reaches them, name nobody otherwise."""
    if _client_user_problem(actor=actor, user=existing) is None:
        return ValidationError(
            _("%(user)s already has this email: add this user as an existing user instead."),
            code="email_taken",
            params={"user": str(existing), "user_id": existing.pk},
        )
    return ValidationError(
        _(
            "A user with this email already exists but is not one of your clients' users; "
            "use another email or ask an administrator."
        ),
        code="email_taken",
        params={"user_id": None},
    )


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
        _log_action(
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
        _log_action(
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
        accesses = list(
            ClientAccess.objects.select_for_update(of=("self",))
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
        _log_action(
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
        _log_action(
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
