"""Django admin's actions on clients, on the list and on a client's page:
change the status, decide postpay, put on credit hold. Each calls the same
service as the panel, acting as the admin's manager, for at most
ACTION_LIMIT clients at a time."""

from collections import defaultdict
from collections.abc import Callable

from django import forms
from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from clients import selectors, services
from clients.forms.actions import ClientPostpayForm, ClientStatusForm
from clients.models import (
    Client,
    ClientStatus,
)
from users.models import Manager

# Both places Django 6.1 offers an action: the list and the object's own page.
EVERYWHERE = [admin.ActionLocation.CHANGE_LIST, admin.ActionLocation.CHANGE_FORM]
# The name of the action select on a client's page (the list's is "action").
CHANGE_FORM_ACTION = f"{admin.ActionLocation.CHANGE_FORM.value}-action"
# Clients one action may change; more are refused before anything is done.
ACTION_LIMIT = 500


# --- Actions: status, postpay and credit hold through the services -------------------


def _acting_manager(request: HttpRequest) -> Manager | None:
    """The manager the signed-in admin acts as: the services take a manager,
    check that it is active and may reach the client, and name it in the log."""
    return Manager.objects.select_related("user", "reseller").filter(user=request.user).first()


def _selected(
    modeladmin: admin.ModelAdmin, request: HttpRequest, queryset: QuerySet[Client]
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
    modeladmin: admin.ModelAdmin,
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
    modeladmin: admin.ModelAdmin,
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


def _without_manager(modeladmin: admin.ModelAdmin, request: HttpRequest) -> None:
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
    modeladmin: admin.ModelAdmin, request: HttpRequest, queryset: QuerySet[Client]
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
    modeladmin: admin.ModelAdmin, request: HttpRequest, queryset: QuerySet[Client]
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
    modeladmin: admin.ModelAdmin, request: HttpRequest, queryset: QuerySet[Client]
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
