"""Writes about clients: every change of a client happens here, in one
transaction, with its event-log entry and its notification."""

import uuid
from collections.abc import Mapping
from dataclasses import dataclass

from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
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
from notifications.services import notify
from rules import selectors as rules_selectors
from rules import validation
from rules.models import ClientType, ServiceRule
from users.models import Manager, ManagerStatus, User
from users.selectors import (
    user_list_owner_candidates,
    user_list_reachable,
    user_may_own_clients,
)
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
        if not company_name:
            fail("company_name", REQUIRED)
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
