"""The wording of the event log, in one place and in any language.

An event stores its facts in ``ClientEvent.data`` (status keys, the names of
the people involved) beside the subject and description written at the time,
in the language of the manager who acted. A panel in two languages shows the
log in the reader's language, so the page words each event again from its
facts; an event whose facts are missing (written by an older version, or by a
bulk loader) is shown as it was stored.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from typing import Any

from django.utils.formats import date_format
from django.utils.translation import gettext, gettext_lazy, pgettext
from django_countries import countries

from clients.models import AccessLevel, ClientStatus, EventType, PostpayPermission
from rules.models import AttributeValueType


def choice_label(choices: type, key: str) -> str:
    """The label of a stored choice in the active language (the key itself
    when it is no longer a choice)."""
    return str(dict(choices.choices).get(key, key))


def _created(data: Mapping[str, Any]) -> tuple[str, str]:
    if data.get("via") == "api":
        description = gettext(
            "Created through the API by the manager %(manager)s with the token %(token)s."
        ) % {"manager": data["manager"], "token": _quoted(data["token"])}
    else:
        description = gettext("Created by the manager %(manager)s.") % {"manager": data["manager"]}
    return gettext("Client created"), description


def _quoted(value: str) -> str:
    return pgettext("quotation marks around a quoted value", "“%(value)s”") % {"value": value}


def _terms_accepted(data: Mapping[str, Any]) -> tuple[str, str]:
    if "owner" in data:
        return (
            gettext("Terms and conditions accepted"),
            gettext("The owner %(owner)s accepted the terms and conditions.")
            % {"owner": data["owner"]},
        )
    return (
        gettext("Terms and conditions accepted"),
        gettext("The manager %(manager)s accepted the terms and conditions on the client's behalf.")
        % {"manager": data["manager"]},
    )


def _status_changed(data: Mapping[str, Any]) -> tuple[str, str]:
    labels = {
        "old": choice_label(ClientStatus, data["old_status"]),
        "new": choice_label(ClientStatus, data["new_status"]),
    }
    actor = data["actor"]
    return (
        gettext("Status changed: %(old)s → %(new)s") % labels,
        gettext("Changed by %(actor)s.") % {"actor": actor}
        if actor
        else gettext("Changed by the system."),
    )


def _postpay_decided(data: Mapping[str, Any]) -> tuple[str, str]:
    return (
        gettext("Postpay permission: %(permission)s")
        % {"permission": choice_label(PostpayPermission, data["new_permission"])},
        gettext("Decided by %(actor)s.") % {"actor": data["actor"]},
    )


def _nobody(name: str | None) -> str:
    return name or gettext("nobody")


def _manager_changed(data: Mapping[str, Any]) -> tuple[str, str]:
    return (
        gettext("Manager changed: %(old)s → %(new)s")
        % {"old": _nobody(data["old_manager"]), "new": _nobody(data["new_manager"])},
        gettext("Changed by %(actor)s.") % {"actor": data["actor"]},
    )


def _user_added(data: Mapping[str, Any]) -> tuple[str, str]:
    labels = {"user": data["user"], "level": choice_label(AccessLevel, data["level"])}
    return (
        gettext("User added: %(user)s (%(level)s)") % labels,
        (
            gettext("Invited as a new user by %(actor)s.")
            if data.get("invited")
            else gettext("Added by %(actor)s.")
        )
        % {"actor": data["actor"]},
    )


def _user_level_changed(data: Mapping[str, Any]) -> tuple[str, str]:
    return (
        gettext("Access level of %(user)s: %(old)s → %(new)s")
        % {
            "user": data["user"],
            "old": choice_label(AccessLevel, data["old_level"]),
            "new": choice_label(AccessLevel, data["new_level"]),
        },
        gettext("Changed by %(actor)s.") % {"actor": data["actor"]},
    )


def _user_removed(data: Mapping[str, Any]) -> tuple[str, str]:
    return (
        gettext("User removed: %(user)s (%(level)s)")
        % {"user": data["user"], "level": choice_label(AccessLevel, data["level"])},
        gettext("Removed by %(actor)s.") % {"actor": data["actor"]},
    )


def _ownership_transferred(data: Mapping[str, Any]) -> tuple[str, str]:
    return (
        gettext("Ownership transferred: %(old)s → %(new)s")
        % {"old": _nobody(data["old_owner"]), "new": data["new_owner"]},
        gettext("Transferred by %(actor)s; the previous owner is now an Admin.")
        % {"actor": data["actor"]},
    )


# What each changed field is called in the log of an edit (a change that
# carries its own label, an attribute or the company name, uses that).
FIELD_LABELS = {
    "client_info.client_type": gettext_lazy("Client type"),
    "client_info.company_name": gettext_lazy("Company name"),
    "client_info.service_rule": gettext_lazy("Service rule"),
    "client_info.name": gettext_lazy("Name"),
    "contacts.country": gettext_lazy("Country"),
    "contacts.region": gettext_lazy("Region"),
    "contacts.city": gettext_lazy("City"),
    "contacts.postal_code": gettext_lazy("Postal code"),
    "contacts.address_line1": gettext_lazy("Address"),
    "contacts.address_line2": gettext_lazy("Address, line 2"),
    "contacts.phone": gettext_lazy("Phone"),
    "contacts.email": gettext_lazy("Email"),
    "contract_person.first_name": gettext_lazy("Contract person's first name"),
    "contract_person.last_name": gettext_lazy("Contract person's last name"),
    "contract_person.middle_name": gettext_lazy("Contract person's middle name"),
    "contract_person.email": gettext_lazy("Contract person's email"),
}


def _value(change: Mapping[str, Any], side: str) -> str:
    value, kind = change[side], change.get("kind")
    if kind == AttributeValueType.CHECKBOX:
        return gettext("Yes") if value else gettext("No")
    if not value:
        return "—"
    if kind == "country":
        return str(countries.name(value)) or value
    if kind == AttributeValueType.DATE:
        try:
            return date_format(dt.date.fromisoformat(value), "SHORT_DATE_FORMAT")
        except ValueError:
            return value
    return str(value)


def _client_updated(data: Mapping[str, Any]) -> tuple[str, str]:
    labels, lines = [], []
    for change in data["changes"]:
        label = change.get("label") or str(FIELD_LABELS[change["field"]])
        labels.append(label)
        lines.append(f"{label}: {_value(change, 'old')} → {_value(change, 'new')}")
    return (
        gettext("Details changed: %(fields)s") % {"fields": ", ".join(labels)},
        "\n".join([*lines, gettext("Changed by %(actor)s.") % {"actor": data["actor"]}]),
    )


WORDING: dict[str, Callable[[Mapping[str, Any]], tuple[str, str]]] = {
    EventType.CLIENT_CREATED: _created,
    EventType.TERMS_ACCEPTED: _terms_accepted,
    EventType.STATUS_CHANGED: _status_changed,
    EventType.POSTPAY_DECIDED: _postpay_decided,
    EventType.MANAGER_CHANGED: _manager_changed,
    EventType.USER_ADDED: _user_added,
    EventType.USER_LEVEL_CHANGED: _user_level_changed,
    EventType.USER_REMOVED: _user_removed,
    EventType.OWNERSHIP_TRANSFERRED: _ownership_transferred,
    EventType.CLIENT_UPDATED: _client_updated,
}


def event_wording(event_type: str, data: Mapping[str, Any] | None) -> tuple[str, str] | None:
    """The subject and description of an event in the active language, or
    None when its data does not hold what the wording needs."""
    word = WORDING.get(event_type)
    if word is None or not isinstance(data, Mapping):
        return None
    try:
        return word(data)
    except (KeyError, TypeError, ValueError):
        return None
