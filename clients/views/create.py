"""The Add client page, its htmx parts (the type's sections, the owner
search) and the directory autofill."""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_http_methods, require_safe

from clients import services
from clients.autofill import (
    AUTOFILL_COUNT,
    AUTOFILL_MIN_QUERY,
    AutofillOption,
    AutofillRequest,
    autofill_values,
)
from clients.directory import directory_enabled, directory_suggest_answer
from clients.forms.page import ClientCreatePage, page_action
from clients.models import Client
from clients.selectors import owner_search
from rules import selectors as rules_selectors
from users import roles
from users.access import manager_permission_required


def _create_page(request: HttpRequest, page: ClientCreatePage) -> HttpResponse:
    return render(request, "clients/create.html", {"page": page})


@require_http_methods(["GET", "POST"])
@manager_permission_required(roles.CREATE_CLIENT)
def client_create(request: HttpRequest) -> HttpResponse:
    """The Add client page. GET shows it with a fresh one-time token. POST
    creates the client through ``services.client_create`` and goes to its
    page; a page whose forms could not read every value is checked by
    ``services.client_create_check``, so that the page shows both kinds of
    error in one round. A second submit of a page that made its client leads
    to that client (the service tells). The page's helper buttons (apply the
    type, find the owner, select that user, copy the contract person), which
    work without JavaScript, post here too and only re-render the page with
    what was typed."""
    manager = request.manager
    if request.method == "GET":
        return _create_page(request, ClientCreatePage(manager=manager))

    action = page_action(request.POST)
    if action is not None:
        return _create_page(
            request, ClientCreatePage.refreshed(manager=manager, data=request.POST, action=action)
        )
    page = ClientCreatePage(manager=manager, data=request.POST)
    if page.expired:
        page = ClientCreatePage.refreshed(manager=manager, data=request.POST)
        page.page_errors.append(_("This page has expired; check it and submit again."))
        return _create_page(request, page)
    target = {"actor": manager, "reseller": manager.reseller, "creation_token": page.token}
    try:
        if page.is_valid():
            client = services.client_create(**target, **page.inputs())
            messages.success(request, _("The client %(name)s is created.") % {"name": client.name})
            return redirect("clients:detail", client_id=client.pk)
        page.add_service_errors(services.client_create_check(**target, **page.inputs()))
    except services.DuplicateSubmission as duplicate:
        return _already_created(request, duplicate.client)
    except ValidationError as error:
        page.add_service_errors(error)
    return _create_page(request, page)


def _already_created(request: HttpRequest, client: Client) -> HttpResponse:
    messages.info(request, _("This client was already created from this page."))
    return redirect("clients:detail", client_id=client.pk)


@require_http_methods(["POST"])
@manager_permission_required(roles.CREATE_CLIENT)
def client_create_type(request: HttpRequest) -> HttpResponse:
    """htmx: the parts of the Add client page that depend on the client type,
    the company-name field and, out of band, the Additional information
    section, for the type chosen in the posted page."""
    page = ClientCreatePage.refreshed(manager=request.manager, data=request.POST)
    return render(request, "clients/_create_type_parts.html", {"page": page})


@require_safe
@manager_permission_required(roles.CREATE_CLIENT)
def client_owner_search(request: HttpRequest) -> HttpResponse:
    """htmx: the users the manager may make the owner, matching the query by
    name or email (at least three characters, at most twenty users; see
    clients.selectors.owner_search)."""
    query = request.GET.get("owner-query", request.GET.get("q", "")).replace("\x00", "")
    users = owner_search(reseller=request.manager.reseller, query=query)
    return render(
        request,
        "clients/_create_owner_results.html",
        {"users": users, "query": query, "searched": True},
    )


@require_safe
@manager_permission_required(roles.CREATE_CLIENT)
def client_autofill_suggest(request: HttpRequest) -> HttpResponse:
    """htmx: companies from the organization directory matching what the
    operator typed in the company name or the INN field (at least three
    characters), each with the values that choosing it fills.

    Only this server talks to the directory, with the reseller's key, so the
    key never reaches the browser. Nothing is asked, and the answer is empty,
    when autofill is off for the reseller or the chosen type; when the
    service is slow, down or answers garbage the list says suggestions are
    unavailable and the page goes on without them.
    """
    reseller = request.manager.reseller
    asked = AutofillRequest.parse(request.GET, reseller=reseller)
    if (
        not directory_enabled(reseller=reseller, client_type=asked.client_type)
        or len(asked.query.replace(" ", "")) < AUTOFILL_MIN_QUERY
    ):
        return HttpResponse("")
    answer = directory_suggest_answer(query=asked.query, count=AUTOFILL_COUNT, reseller=reseller)
    attribute_keys = [
        attribute.key
        for attribute in rules_selectors.attribute_list_for_create(client_type=asked.client_type)
    ]
    settings = rules_selectors.account_validation_settings()
    country_codes = [code for code, _name in reseller.country_choices()]
    options = [
        AutofillOption(
            suggestion=suggestion,
            values=autofill_values(
                suggestion,
                reseller=reseller,
                settings=settings,
                client_type=asked.client_type,
                attribute_keys=attribute_keys,
                country_codes=country_codes,
            ),
        )
        for suggestion in answer.suggestions
    ]
    return render(
        request,
        "clients/_create_autofill_results.html",
        {"options": options, "available": answer.available, "listbox": asked.listbox},
    )
