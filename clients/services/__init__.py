"""Writes about clients: every business rule checked in one place, whatever
the entrance (page, API, Django admin, management command). A package by
concern (STYLE.md): events, create, lifecycle, access, update, search_text;
their public names are here."""

from clients.services.access import (
    ASSIGNABLE_LEVELS,
    client_access_add,
    client_access_remove,
    client_access_set_level,
    client_owner_welcome,
    client_ownership_transfer,
    client_set_manager,
    client_terms_accept_by_owner,
    client_user_invite,
)
from clients.services.checks import (
    LATIN_CONTACT_FIELDS,
    POSTPAY_DECISIONS,
    email_normalized,
    new_user_email_problem,
)
from clients.services.create import (
    DuplicateSubmission,
    client_create,
    client_create_check,
)
from clients.services.events import (
    NOTIFIED_EVENTS,
    client_event_record,
)
from clients.services.lifecycle import (
    client_decide_postpay,
    client_set_credit_hold,
    client_set_status,
)
from clients.services.search_text import (
    SEARCH_TEXT_REFRESH_BATCH,
    client_search_text_refresh,
)
from clients.services.update import (
    MASK,
    client_update,
    client_update_check,
)

__all__ = [
    "ASSIGNABLE_LEVELS",
    "LATIN_CONTACT_FIELDS",
    "MASK",
    "NOTIFIED_EVENTS",
    "POSTPAY_DECISIONS",
    "SEARCH_TEXT_REFRESH_BATCH",
    "DuplicateSubmission",
    "client_access_add",
    "client_access_remove",
    "client_access_set_level",
    "client_create",
    "client_create_check",
    "client_decide_postpay",
    "client_event_record",
    "client_owner_welcome",
    "client_ownership_transfer",
    "client_search_text_refresh",
    "client_set_credit_hold",
    "client_set_manager",
    "client_set_status",
    "client_terms_accept_by_owner",
    "client_update",
    "client_update_check",
    "client_user_invite",
    "email_normalized",
    "new_user_email_problem",
]
