"""The client page and its status and postpay actions."""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_http_methods, require_safe

from clients import selectors, services
from clients.forms.actions import (
    ClientManagerForm,
    ClientPostpayForm,
    ClientStatusForm,
    ClientUserLevelForm,
)
from clients.models import AccessLevel, Client, ClientStatus, PostpayPermission
from notifications.selectors import delivery_list_for_client
from users import roles
from users.access import manager_permission_required, manager_required
from users.selectors import manager_list_active

EVENTS_PER_PAGE = 50
DELIVERIES_SHOWN = 50  # the latest ones


@require_safe
@manager_required
def client_detail(request: HttpRequest, client_id: int) -> HttpResponse:
    """One client: details by section, users, event log, delivery log and the
    status and postpay actions allowed from its current state."""
    client = selectors.client_get(manager=request.manager, client_id=client_id)
    may = request.user.has_perm
    # A deleted client's details, manager and users stay as they were.
    changeable = client.status != ClientStatus.DELETED
    can_change_manager = changeable and may(roles.perm(roles.CHANGE_MANAGER))
    accesses = list(selectors.client_access_list(client=client))
    events = Paginator(selectors.client_event_list(client=client), EVENTS_PER_PAGE).get_page(
        request.GET.get("events_page", "").replace("\x00", "")
    )
    return render(
        request,
        "clients/detail.html",
        {
            "client": client,
            "accesses": accesses,
            "owner_access": next((a for a in accesses if a.level == AccessLevel.OWNER), None),
            "can_edit": changeable and may(roles.perm(roles.EDIT_CLIENT)),
            "can_manage_users": changeable and may(roles.perm(roles.MANAGE_USERS)),
            "can_transfer": changeable and may(roles.perm(roles.TRANSFER_OWNERSHIP)),
            "can_change_manager": can_change_manager,
            "manager_form": ClientManagerForm(client=client, offered=_offered_managers(client))
            if can_change_manager
            else None,
            "level_choices": ClientUserLevelForm.base_fields["level"].choices,
            "attribute_rows": selectors.client_attribute_rows(client=client),
            "events": events,
            "deliveries": delivery_list_for_client(client=client)[:DELIVERIES_SHOWN],
            # Actions the manager's role may not take are not offered (users.roles).
            "status_targets": selectors.client_status_targets(client=client)
            if request.user.has_perm(roles.perm(roles.CHANGE_STATUS))
            else [],
            "show_postpay": client.reseller.postpay_is_manual,
            "postpay_can_decide": selectors.client_postpay_can_decide(client=client)
            and request.user.has_perm(roles.perm(roles.DECIDE_POSTPAY)),
            "postpay_decisions": ClientPostpayForm.base_fields["decision"].choices,
            "show_reseller": request.manager.reseller.is_root,
        },
    )


def _refuse(request: HttpRequest, client: Client, error: ValidationError) -> HttpResponse:
    for message in error.messages:
        messages.error(request, message)
    return redirect("clients:detail", client_id=client.pk)


@require_http_methods(["GET", "POST"])
@manager_permission_required(roles.CHANGE_STATUS)
def client_status_change(request: HttpRequest, client_id: int) -> HttpResponse:
    """GET: the confirmation page of a status change (the client page asks in
    a dialog; this page serves links opened without it). POST: the change."""
    client = selectors.client_get(manager=request.manager, client_id=client_id)
    # Only exact choices pass: a value with a NUL or anything else is refused.
    form = ClientStatusForm(request.POST if request.method == "POST" else request.GET)
    if not form.is_valid():
        return _refuse(request, client, ValidationError(_("Choose a status.")))
    status = ClientStatus(form.cleaned_data["status"])
    if request.method == "GET":
        if status not in selectors.client_status_targets(client=client):
            return _refuse(
                request,
                client,
                ValidationError(
                    _("A client cannot go from the status %(old)s to %(new)s.")
                    % {"old": client.get_status_display(), "new": status.label}
                ),
            )
        return render(request, "clients/status_confirm.html", {"client": client, "status": status})
    try:
        services.client_set_status(actor=request.manager, client=client, status=status)
    except ValidationError as error:
        return _refuse(request, client, error)
    messages.success(request, _("The status is now %(status)s.") % {"status": status.label})
    return redirect("clients:detail", client_id=client.pk)


@require_http_methods(["GET", "POST"])
@manager_permission_required(roles.DECIDE_POSTPAY)
def client_postpay_decide(request: HttpRequest, client_id: int) -> HttpResponse:
    """GET: the confirmation page of a postpay decision. POST: the decision,
    which is final."""
    client = selectors.client_get(manager=request.manager, client_id=client_id)
    form = ClientPostpayForm(request.POST if request.method == "POST" else request.GET)
    if not form.is_valid():
        return _refuse(request, client, ValidationError(_("Choose to approve or to decline.")))
    decision = PostpayPermission(form.cleaned_data["decision"])
    if request.method == "GET":
        if not selectors.client_postpay_can_decide(client=client):
            return _refuse(
                request, client, ValidationError(_("The postpay permission cannot be decided now."))
            )
        return render(
            request,
            "clients/postpay_confirm.html",
            {"client": client, "decision": (decision.value, decision.label)},
        )
    try:
        services.client_decide_postpay(actor=request.manager, client=client, decision=decision)
    except ValidationError as error:
        return _refuse(request, client, error)
    messages.success(
        request, _("Postpay permission: %(permission)s.") % {"permission": decision.label}
    )
    return redirect("clients:detail", client_id=client.pk)


def _offered_managers(client: Client):
    return manager_list_active(reseller=client.reseller)
