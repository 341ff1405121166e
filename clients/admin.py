"""Clients in Django admin. Admin is an entrance too (STYLE.md): everything
the services decide and log (the details, type, rule and manager, status,
postpay, the owner and users, the terms, the creation with its event and
notification) is read-only here. A client's page links to the panel's Edit
client page for its details, and the actions "Change status…", "Decide
postpay…" and "Put on credit hold", on the list and on a client's page, call
the same services as the panel, acting as the admin's manager."""

import functools
from collections import defaultdict
from collections.abc import Callable

from django import forms
from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.contrib.admin.utils import quote
from django.contrib.admin.views.main import ChangeList
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db import connections, router
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.functional import cached_property
from django.utils.html import format_html
from django.utils.translation import get_language, gettext, ngettext
from django.utils.translation import gettext_lazy as _

from clients import selectors, services
from clients.forms.actions import ClientPostpayForm, ClientStatusForm
from clients.models import (
    AccessLevel,
    Client,
    ClientAccess,
    ClientAttributeValue,
    ClientEvent,
    ClientStatus,
)
from users import admin as users_admin
from users import roles
from users.models import Manager, User

# Both places Django 6.1 offers an action: the list and the object's own page.
EVERYWHERE = [admin.ActionLocation.CHANGE_LIST, admin.ActionLocation.CHANGE_FORM]
# The name of the action select on a client's page (the list's is "action").
CHANGE_FORM_ACTION = f"{admin.ActionLocation.CHANGE_FORM.value}-action"
# Clients one action may change; more are refused before anything is done.
ACTION_LIMIT = 500


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


# --- Actions: status, postpay and credit hold through the services -------------------


def _acting_manager(request: HttpRequest) -> Manager | None:
    """The manager the signed-in admin acts as: the services take a manager,
    check that it is active and may reach the client, and name it in the log."""
    return Manager.objects.select_related("user", "reseller").filter(user=request.user).first()


def _selected(
    modeladmin: ClientAdmin, request: HttpRequest, queryset: QuerySet[Client]
) -> list[Client] | None:
    """The selected clients, or None (with a message) past ACTION_LIMIT: each
    one is a transaction with its notification, and all are listed first."""
    clients = list(queryset.select_related("reseller").order_by("pk")[: ACTION_LIMIT + 1])
    if len(clients) > ACTION_LIMIT:
        modeladmin.message_user(
            request,
            _("Choose at most %(limit)d clients for this action.") % {"limit": ACTION_LIMIT},
            messages.ERROR,
        )
        return None
    return clients


def _apply_each(
    modeladmin: ClientAdmin,
    request: HttpRequest,
    clients: list[Client],
    change: Callable[[Client], object],
    *,
    done_message: Callable[[int], str],
    log_message: str,
    refusal_level: int = messages.ERROR,
) -> None:
    """Call a service for each client; report the clients changed and, grouped
    by the service's own message, those it refused."""
    done = 0
    refused: dict[str, list[Client]] = defaultdict(list)
    for client in clients:
        try:
            change(client)
        except ValidationError as error:
            refused[" ".join(error.messages)].append(client)
        else:
            done += 1
            modeladmin.log_change(request, client, log_message)
    if done:
        modeladmin.message_user(request, done_message(done), messages.SUCCESS)
    for message, clients in refused.items():
        shown = ", ".join(f"#{client.pk} {client.name}" for client in clients[:10])
        more = len(clients) - 10
        if more > 0:
            shown += " " + str(_("and %(count)d more") % {"count": more})
        modeladmin.message_user(request, f"{message} ({shown})", refusal_level)


def _confirmation(
    modeladmin: ClientAdmin,
    request: HttpRequest,
    *,
    title: str,
    form: forms.Form,
    action: str,
    columns: tuple[str, str],
    rows: list[tuple[Client, str, str]],
) -> TemplateResponse:
    """The intermediate page of an action: the clients, where each stands and
    what may happen to it, and the form; it posts back to the same action,
    from the list or from the client's page."""
    from_change_form = CHANGE_FORM_ACTION in request.POST
    if from_change_form:
        cancel_url = reverse("admin:clients_client_change", args=[rows[0][0].pk])
    else:
        cancel_url = reverse("admin:clients_client_changelist")
    return TemplateResponse(
        request,
        "admin/clients/client/service_action.html",
        {
            **modeladmin.admin_site.each_context(request),
            "title": title,
            "opts": modeladmin.model._meta,
            "form": form,
            "columns": columns,
            "rows": rows,
            "action_field": CHANGE_FORM_ACTION if from_change_form else "action",
            "action": action,
            "cancel_url": cancel_url,
            "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
        },
    )


def _without_manager(modeladmin: ClientAdmin, request: HttpRequest) -> None:
    modeladmin.message_user(
        request,
        _(
            "Status and postpay changes are made as a panel manager, and your user is not "
            "one. Make it an active manager of the root reseller (Managers) or use the panel."
        ),
        messages.ERROR,
    )


@admin.action(description=_("Change status…"), permissions=["change_status"], location=EVERYWHERE)
def client_change_status_action(
    modeladmin: ClientAdmin, request: HttpRequest, queryset: QuerySet[Client]
) -> HttpResponse | None:
    """Move the selected clients to a status through ``client_set_status``,
    after a page that offers the statuses allowed from their current ones;
    each move the service refuses (the transition, the manager's reach) is
    reported with its message and changes nothing."""
    manager = _acting_manager(request)
    if manager is None:
        _without_manager(modeladmin, request)
        return None
    clients = _selected(modeladmin, request, queryset)
    if clients is None:
        return None
    targets = {client.pk: selectors.client_status_targets(client=client) for client in clients}
    offered = [status for status in ClientStatus if any(status in t for t in targets.values())]
    if "apply" in request.POST:
        form = ClientStatusForm(request.POST)
        if form.is_valid():
            status = ClientStatus(form.cleaned_data["status"])
            _apply_each(
                modeladmin,
                request,
                clients,
                lambda client: services.client_set_status(
                    actor=manager, client=client, status=status
                ),
                done_message=lambda count: (
                    ngettext(
                        "The status of %(count)d client is now %(status)s.",
                        "The status of %(count)d clients is now %(status)s.",
                        count,
                    )
                    % {"count": count, "status": status.label}
                ),
                log_message=f"Status: {status.value} (clients.services.client_set_status)",
            )
            return None
    else:
        if not offered:
            modeladmin.message_user(
                request, _("No status change is allowed for the selected clients."), messages.ERROR
            )
            return None
        form = ClientStatusForm()
    # Every status validates (the service refuses what is not allowed, with
    # its reason); only the allowed ones are offered.
    form.fields["status"].widget.choices = [(status.value, status.label) for status in offered]
    rows = [
        (
            client,
            str(client.get_status_display()),
            ", ".join(str(status.label) for status in targets[client.pk])
            or str(_("no change allowed")),
        )
        for client in clients
    ]
    return _confirmation(
        modeladmin,
        request,
        title=str(_("Change the status")),
        form=form,
        action="client_change_status_action",
        columns=(str(_("Status")), str(_("May go to"))),
        rows=rows,
    )


@admin.action(description=_("Decide postpay…"), permissions=["decide_postpay"], location=EVERYWHERE)
def client_decide_postpay_action(
    modeladmin: ClientAdmin, request: HttpRequest, queryset: QuerySet[Client]
) -> HttpResponse | None:
    """Approve or decline the selected clients' postpay through
    ``client_decide_postpay``, after a confirmation page: the decision is
    final, and allowed only while the reseller decides postpay by hand."""
    manager = _acting_manager(request)
    if manager is None:
        _without_manager(modeladmin, request)
        return None
    clients = _selected(modeladmin, request, queryset)
    if clients is None:
        return None
    if "apply" in request.POST:
        form = ClientPostpayForm(request.POST)
        if form.is_valid():
            decision = form.cleaned_data["decision"]
            label = dict(ClientPostpayForm.base_fields["decision"].choices)[decision]
            _apply_each(
                modeladmin,
                request,
                clients,
                lambda client: services.client_decide_postpay(
                    actor=manager, client=client, decision=decision
                ),
                done_message=lambda count: (
                    ngettext(
                        "Postpay permission of %(count)d client: %(permission)s.",
                        "Postpay permission of %(count)d clients: %(permission)s.",
                        count,
                    )
                    % {"count": count, "permission": label}
                ),
                log_message=f"Postpay: {decision} (clients.services.client_decide_postpay)",
            )
            return None
    else:
        form = ClientPostpayForm()
    rows = [
        (
            client,
            str(client.get_postpay_permission_display()),
            str(_("yes") if selectors.client_postpay_can_decide(client=client) else _("no")),
        )
        for client in clients
    ]
    return _confirmation(
        modeladmin,
        request,
        title=str(_("Decide postpay")),
        form=form,
        action="client_decide_postpay_action",
        columns=(str(_("Postpay permission")), str(_("May be decided now"))),
        rows=rows,
    )


# The system's credit hold, offered to admins by hand (billing calls the service).
@admin.action(
    description=_("Put on credit hold (as the System)"),
    permissions=["change_status"],
    location=EVERYWHERE,
)
def client_set_credit_hold_action(
    modeladmin: ClientAdmin, request: HttpRequest, queryset: QuerySet[Client]
) -> None:
    """Each selected Active client goes on credit hold through the service, so
    it is logged as the System and notified; other statuses are reported."""
    clients = _selected(modeladmin, request, queryset)
    if clients is None:
        return
    _apply_each(
        modeladmin,
        request,
        clients,
        lambda client: services.client_set_credit_hold(client=client),
        done_message=lambda count: str(
            _("Clients put on credit hold: %(count)d.") % {"count": count}
        ),
        log_message="Status: credit_hold (clients.services.client_set_credit_hold)",
        # Skipping the clients that are not active is expected, not a failure.
        refusal_level=messages.WARNING,
    )


ClientAdmin.actions = [
    client_change_status_action,
    client_decide_postpay_action,
    client_set_credit_hold_action,
]


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
