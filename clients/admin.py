"""Clients in Django admin. Admin is an entrance too (STYLE.md): everything
the services decide and log (the details, type, rule and manager, status,
postpay, the owner and users, the terms, the creation with its event and
notification) is read-only here. A client's page links to the panel's Edit
client page for its details, and the actions "Change status…", "Decide
postpay…" and "Put on credit hold", on the list and on a client's page, call
the same services as the panel, acting as the admin's manager
(clients/admin_actions.py)."""

import functools

from django.contrib import admin
from django.contrib.admin import helpers
from django.contrib.admin.utils import quote
from django.contrib.admin.views.main import ChangeList
from django.core.paginator import Paginator
from django.db import connections, router
from django.http import HttpRequest
from django.urls import reverse
from django.utils.functional import cached_property
from django.utils.html import format_html
from django.utils.translation import get_language, gettext
from django.utils.translation import gettext_lazy as _

from clients import services
from clients.admin_actions import (
    client_change_status_action,
    client_decide_postpay_action,
    client_set_credit_hold_action,
)
from clients.models import (
    AccessLevel,
    Client,
    ClientAccess,
    ClientAttributeValue,
    ClientEvent,
)
from users import admin as users_admin
from users import roles
from users.models import User


class ReadOnlyInline(admin.TabularInline):
    """Shown, never edited here: the rows are written by services."""

    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


class ClientAccessInline(ReadOnlyInline):
    """Exactly one owner is the service's promise (client_create); a row
    added, changed or deleted here could break it."""

    model = ClientAccess
    fields = ["user", "level", "created_at"]
    readonly_fields = fields


class ClientAttributeValueInline(ReadOnlyInline):
    """Values are checked by the service against their attribute's type,
    format and list options; admin has none of those checks."""

    model = ClientAttributeValue
    fields = ["attribute", "value"]
    readonly_fields = fields


class ClientEventInline(admin.TabularInline):
    """The event log is history: shown, never edited."""

    model = ClientEvent
    extra = 0
    can_delete = False
    fields = ["created_at", "event_type", "subject", "description", "actor", "visible_to_client"]
    readonly_fields = fields
    ordering = ["-created_at", "-id"]

    def has_add_permission(self, request, obj=None) -> bool:
        return False


class EstimatedCountPaginator(Paginator):
    """Django admin's paginator without a COUNT(*) of a million rows.

    On PostgreSQL the unfiltered total is the planner's estimate of the table's
    rows (pg_class.reltuples, kept fresh by autovacuum and ANALYZE), and a
    filtered or searched total is counted only up to COUNT_CAP matches. On
    other databases (SQLite in development) it counts as usual."""

    COUNT_CAP = 10_000
    # Below this many rows counting is cheap and the estimate needlessly rough.
    ESTIMATE_FROM = 10_000

    @cached_property
    def count(self) -> int:
        queryset = self.object_list
        connection = connections[queryset.db]
        if connection.vendor != "postgresql":
            return super().count
        if not queryset.query.where:
            estimate = self._estimate(connection, queryset.model._meta.db_table)
            if estimate >= self.ESTIMATE_FROM:
                return estimate
        # Unordered: the order of the rows counted does not matter, and with it
        # the database would sort every match (or walk the table in that order).
        return queryset.order_by()[: self.COUNT_CAP].count()

    @staticmethod
    def _estimate(connection, table: str) -> int:
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT reltuples::bigint FROM pg_class WHERE oid = to_regclass(%s)", [table]
            )
            row = cursor.fetchone()
        # -1 for a table never vacuumed or analysed.
        return max(int(row[0]), 0) if row and row[0] is not None else 0


class ClientChangeList(ChangeList):
    """Django's changelist, each row's link made from one reverse() per page:
    reverse() for each of a hundred rows cost more than the row's cells."""

    @cached_property
    def _change_url(self) -> tuple[str, str]:
        marker = "987654321"
        url = reverse(
            f"admin:{self.opts.app_label}_{self.opts.model_name}_change",
            args=(marker,),
            current_app=self.model_admin.admin_site.name,
        )
        head, _, tail = url.partition(marker)
        return head, tail

    def url_for_result(self, result) -> str:
        head, tail = self._change_url
        return f"{head}{quote(getattr(result, self.pk_attname))}{tail}"


@functools.lru_cache(maxsize=1024)
def _country_name(code: str, language: str | None) -> str:
    """A country's name in the active language (``language``, the cache key):
    django-countries looks the code up and translates it on every call."""
    return str(Client._meta.get_field("country").countries.name(code))


@admin.register(Client)
class ClientAdmin(admin.ModelAdmin):
    actions = [
        client_change_status_action,
        client_decide_postpay_action,
        client_set_credit_hold_action,
    ]
    # A million clients: estimate the total, never count the whole table twice.
    paginator = EstimatedCountPaginator
    show_full_result_count = False
    list_display = [
        "id",
        "name",
        "status",
        "client_type",
        "service_rule",
        "manager",
        "reseller",
        "country_name",
        "city",
        "postpay_permission",
        "created_at",
    ]
    # The creation date as a filter (today, past 7 days, this month, this
    # year), not date_hierarchy: its year links need a DISTINCT over every
    # row, about a second at a million clients.
    list_filter = [
        "status",
        "postpay_permission",
        "created_at",
        "reseller",
        "client_type",
        "service_rule",
    ]
    # Each one served by an index: the ID by its primary key (a term that is
    # no number skips it; "=id" would compare UPPER(id::text) and read every
    # row), the texts by trigram indexes (clients/migrations/0002 and 0003).
    search_fields = ["id__exact", "name", "company_name", "email", "phone"]
    list_select_related = ["client_type", "service_rule", "manager__user", "reseller"]
    inlines = [ClientAccessInline, ClientAttributeValueInline, ClientEventInline]
    fieldsets = (
        (
            _("Client information"),
            {
                "fields": (
                    "panel_edit_link",
                    "reseller",
                    "client_type",
                    "company_name",
                    "name",
                    "manager",
                    "service_rule",
                    "status",
                    "postpay_permission",
                    "postpay_decided_at",
                    "postpay_decided_by",
                )
            },
        ),
        (
            _("Contacts"),
            {
                "fields": (
                    "country",
                    "region",
                    "city",
                    "postal_code",
                    "address_line1",
                    "address_line2",
                    "phone",
                    "email",
                )
            },
        ),
        (
            _("Contract person"),
            {
                "fields": (
                    "contract_first_name",
                    "contract_middle_name",
                    "contract_last_name",
                    "contract_email",
                )
            },
        ),
        (
            _("Agreements"),
            {
                "fields": (
                    "terms_status",
                    "terms_accepted_at",
                    "terms_accepted_by",
                    "terms_accepted_by_owner",
                    "terms_accepted_from",
                )
            },
        ),
        (
            _("History"),
            {"fields": ("created_at", "created_by", "updated_at", "updated_by", "creation_token")},
        ),
    )
    # Every field is read-only here. What admin would change, the services
    # decide and log: the details (Edit client, ``client_update``, linked
    # above), the status and postpay (the actions below), the manager, the
    # users and the terms (the client page).
    readonly_fields = [name for _title, section in fieldsets for name in section["fields"]]

    @admin.display(description=_("Change in the panel"))
    def panel_edit_link(self, obj: Client) -> str:
        """The panel's Edit client page, where the details change under the
        rules and into the event log."""
        if obj.pk is None:
            return "—"
        return format_html(
            '<a href="{}">{}</a>', reverse("clients:edit", args=[obj.pk]), _("Edit client")
        )

    def save_model(self, request, obj, form, change) -> None:
        # Nothing here is editable (readonly_fields): a save writes nothing,
        # so no change of a client ever bypasses its services.
        return None

    def has_add_permission(self, request) -> bool:
        # A client is born only in clients.services.client_create (owner,
        # access, events, notification): the panel's Add client page, linked
        # from the list instead of admin's add button.
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        # Deleting is the status "Deleted" (logged, notified, reversible in
        # the data), not the loss of the client's history.
        return False

    def has_change_status_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm(roles.perm(roles.CHANGE_STATUS))

    def has_decide_postpay_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm(roles.perm(roles.DECIDE_POSTPAY))

    # The changelist's cells, written here rather than by Django's generic
    # display: a country field's display rebuilds all 250 translated country
    # names for every cell (display_for_field reads field.flatchoices), and
    # the action checkbox renders a form widget template for every row; the
    # two took over half of page 1's time at a million clients. The rows
    # themselves are written by clients/templatetags/client_admin.py.
    @admin.display(description=_("country"), ordering="country")
    def country_name(self, obj: Client) -> str:
        return _country_name(obj.country.code, get_language())

    def action_checkbox(self, obj: Client) -> str:
        """Django's checkbox (ModelAdmin.action_checkbox), the same markup."""
        return format_html(
            '<input type="checkbox" name="{}" value="{}" class="action-select" aria-label="{}">',
            helpers.ACTION_CHECKBOX_NAME,
            obj.pk,
            format_html(gettext("Select this object for an action - {}"), str(obj)),
        )

    def get_changelist(self, request, **kwargs) -> type[ChangeList]:
        return ClientChangeList

    def changelist_view(self, request, extra_context=None):
        """The changelist, saying under its pages when the total is an
        estimate or a capped count (EstimatedCountPaginator)."""
        connection = connections[router.db_for_read(self.model)]
        extra_context = {
            **(extra_context or {}),
            "estimated_total": connection.vendor == "postgresql",
            "count_cap": EstimatedCountPaginator.COUNT_CAP,
        }
        return super().changelist_view(request, extra_context)


class ReadOnlyAdmin(admin.ModelAdmin):
    """Listed and shown; written only by the clients' services."""

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


@admin.register(ClientEvent)
class ClientEventAdmin(ReadOnlyAdmin):
    """Read-only: the event log is written by services only."""

    list_display = ["created_at", "client", "event_type", "subject", "actor", "visible_to_client"]
    list_filter = ["event_type", "visible_to_client"]
    search_fields = ["subject", "description", "client__name"]
    list_select_related = ["client", "actor"]
    date_hierarchy = "created_at"


@admin.register(ClientAccess)
class ClientAccessAdmin(ReadOnlyAdmin):
    """Read-only: exactly one owner per client is the service's promise."""

    list_display = ["client", "user", "level", "created_at"]
    list_filter = ["level"]
    search_fields = ["client__name", "user__email"]
    list_select_related = ["client", "user"]


@admin.register(ClientAttributeValue)
class ClientAttributeValueAdmin(ReadOnlyAdmin):
    """Read-only: values are checked by the service against their attribute."""

    list_display = ["client", "attribute", "value"]
    list_filter = ["attribute"]
    search_fields = ["client__name", "value"]
    list_select_related = ["client", "attribute"]


class UserAdmin(users_admin.UserAdmin):
    """users' User admin, which also keeps the client list's search text:
    an owner's email is part of it (clients/search.py), and a user's email
    may be changed only here. users may not reach up to clients, so clients
    registers this subclass in its place."""

    def save_model(self, request, obj, form, change) -> None:
        super().save_model(request, obj, form, change)
        if change and "email" in form.changed_data:
            owned = ClientAccess.objects.filter(user=obj, level=AccessLevel.OWNER)
            services.client_search_text_refresh(
                client_ids=owned.values_list("client_id", flat=True)
            )


admin.site.unregister(User)
admin.site.register(User, UserAdmin)
