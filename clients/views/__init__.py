"""The clients' pages, a module per page (STYLE.md, "Split by concern when a
module grows"): listing, detail, create, people (users and access after
creation), edit. Each view checks its input with a form and calls one
service; the URLs name them from here."""

from clients.views.create import (
    client_autofill_suggest,
    client_create,
    client_create_type,
    client_owner_search,
)
from clients.views.detail import client_detail, client_postpay_decide, client_status_change
from clients.views.edit import client_edit, client_edit_type
from clients.views.listing import client_export, client_list
from clients.views.people import (
    client_manager_change,
    client_ownership_transfer,
    client_user_add,
    client_user_level,
    client_user_remove,
    client_user_search,
)

__all__ = [
    "client_autofill_suggest",
    "client_create",
    "client_create_type",
    "client_detail",
    "client_edit",
    "client_edit_type",
    "client_export",
    "client_list",
    "client_manager_change",
    "client_owner_search",
    "client_ownership_transfer",
    "client_postpay_decide",
    "client_status_change",
    "client_user_add",
    "client_user_level",
    "client_user_remove",
    "client_user_search",
]
