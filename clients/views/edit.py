"""The Edit client page."""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_http_methods

from clients import selectors, services
from clients.forms.edit import ACTION_APPLY_TYPE, ClientEditPage
from clients.models import Client, ClientStatus
from clients.views.detail import _refuse
from users import roles
from users.access import manager_permission_required


def _edit_page(request: HttpRequest, page: ClientEditPage) -> HttpResponse:
    return render(request, "clients/edit.html", {"page": page, "client": page.client})


def _editable_client(request: HttpRequest, client_id: int) -> Client:
    return selectors.client_get(manager=request.manager, client_id=client_id)


@require_http_methods(["GET", "POST"])
@manager_permission_required(roles.EDIT_CLIENT)
def client_edit(request: HttpRequest, client_id: int) -> HttpResponse:
    """The Edit client page: the Add client page's sections but the owner,
    filled from the client. POST saves through ``services.client_update``
    (the same checks as Add client) and goes back to the client page, which
    shows the change in the event log; a page whose forms could not read
    every value is checked by ``services.client_update_check`` too, so both
    kinds of error show in one round. A save over someone else's newer
    change is refused with who and when; a second submit of a saved page
    changes nothing. "Apply the client type" (the page without JavaScript)
    re-renders it with what was typed."""
    client = _editable_client(request, client_id)
    manager = request.manager
    if client.status == ClientStatus.DELETED:
        return _refuse(request, client, ValidationError(_("A deleted client cannot be changed.")))
    if request.method == "GET":
        return _edit_page(request, ClientEditPage(manager=manager, client=client))
    if ACTION_APPLY_TYPE in request.POST:
        return _edit_page(
            request, ClientEditPage.refreshed(manager=manager, client=client, data=request.POST)
        )
    page = ClientEditPage(manager=manager, client=client, data=request.POST)
    try:
        if page.is_valid():
            _saved, changed = services.client_update(
                actor=manager, client=client, version=page.version, **page.inputs()
            )
            if changed:
                messages.success(request, _("The changes are saved."))
            else:
                messages.info(request, _("Nothing was changed."))
            return redirect(reverse("clients:detail", args=[client.pk]) + "#events")
        page.add_service_errors(
            services.client_update_check(actor=manager, client=client, **page.inputs())
        )
    except ValidationError as error:
        page.add_service_errors(error)
    return _edit_page(request, page)


@require_http_methods(["POST"])
@manager_permission_required(roles.EDIT_CLIENT)
def client_edit_type(request: HttpRequest, client_id: int) -> HttpResponse:
    """htmx: the parts of the Edit client page that depend on the client
    type (the company-name field and, out of band, Additional information)
    for the type chosen in the posted page."""
    client = _editable_client(request, client_id)
    page = ClientEditPage.refreshed(manager=request.manager, client=client, data=request.POST)
    return render(request, "clients/_create_type_parts.html", {"page": page})
