"""The wording of the event log, in one place and in any language.

An event stores its facts in ``ClientEvent.data`` (status keys, the names of
the people involved) beside the subject and description written at the time,
in the language of the manager who acted. A panel in two languages shows the
log in the reader's language, so the page words each event again from its
facts; an event whose facts are missing (written by an older version, or by a
bulk loader) is shown as it was stored.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from django.utils.translation import gettext, pgettext

from clients.models import ClientStatus, EventType, PostpayPermission


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


WORDING: dict[str, Callable[[Mapping[str, Any]], tuple[str, str]]] = {
    EventType.CLIENT_CREATED: _created,
    EventType.TERMS_ACCEPTED: _terms_accepted,
    EventType.STATUS_CHANGED: _status_changed,
    EventType.POSTPAY_DECIDED: _postpay_decided,
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
