"""client_create: the Add client page's (and the API's) checks, section by
section, then the writes in one transaction."""

import uuid
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import asdict

from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from clients import selectors
from clients.inputs import (
    Agreements,
    AttributeValues,
    ClientInfo,
    Contacts,
    ContractPerson,
    NewOwner,
    Owner,
    column_length,
)
from clients.models import (
    AccessLevel,
    Client,
    ClientAccess,
    ClientAttributeValue,
    ClientStatus,
    EventType,
    TermsStatus,
)
from clients.search import search_text
from clients.services.checks import POSTPAY_DECISIONS, _Checked, _checked_sections, _Sections
from clients.services.events import client_event_record
from rules.models import ClientType
from users.models import Manager, Reseller, User


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
