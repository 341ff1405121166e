"""client_update: the Edit client page's service (the Add client page's
checks, the stale-edit refusal, the change log field by field)."""

from dataclasses import asdict, dataclass, replace

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext_lazy as _

from clients import selectors
from clients.inputs import Agreements, AttributeValues, ClientInfo, Contacts, ContractPerson
from clients.models import Client, ClientAttributeValue, EventType, TermsStatus
from clients.search import search_text
from clients.services.access import _apply_manager
from clients.services.checks import (
    _check_attributes,
    _check_client_info,
    _check_contacts,
    _check_contract_person,
    _Errors,
)
from clients.services.create import _display_name
from clients.services.events import _name, client_event_record
from clients.services.lifecycle import _check_actor, _lock_client, _mark_changed, _refuse_if_deleted
from rules import selectors as rules_selectors
from rules.models import Attribute, AttributeValueType, ClientType
from users.models import Manager


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
        owner = selectors.client_owner_access(client=client)
        client.search_text = search_text(
            name=client.name, phone=client.phone, owner_email=owner.user.email if owner else None
        )
        fields.append("search_text")
    client.save(update_fields=[*fields, *_mark_changed(client, actor=actor, now=now)])
    _attribute_values_write(client, checked=checked, changes=changes)


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
