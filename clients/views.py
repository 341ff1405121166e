"""Pages of the Clients section."""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_http_methods, require_safe

from clients import selectors, services
from clients.forms import ClientCreatePage, page_action, parse_token
from users.access import manager_required
from users.selectors import owner_search


@manager_required
def client_list(request: HttpRequest) -> HttpResponse:
    """The reseller's clients, newest first, paginated."""
    paginator = Paginator(selectors.client_list(manager=request.manager), 50)
    page = paginator.get_page(request.GET.get("page"))
    return render(
        request,
        "clients/list.html",
        {"page": page, "show_postpay": request.manager.reseller.postpay_is_manual},
    )


@manager_required
def client_detail(request: HttpRequest, client_id: int) -> HttpResponse:
    """One client's details."""
    client = selectors.client_get(manager=request.manager, client_id=client_id)
    return render(request, "clients/detail.html", {"client": client})


# --- The Add client page -------------------------------------------------------


def _create_page(request: HttpRequest, page: ClientCreatePage) -> HttpResponse:
    return render(request, "clients/create.html", {"page": page})


@require_http_methods(["GET", "POST"])
@manager_required
def client_create(request: HttpRequest) -> HttpResponse:
    """The Add client page. GET shows it with a fresh one-time token. POST
    creates the client through ``services.client_create`` and goes to its
    page; the page's helper buttons (apply the type, find the owner, select
    that user, copy the contract person), which work without JavaScript, post
    here too and only re-render the page with what was typed."""
    manager = request.manager
    if request.method == "GET":
        return _create_page(request, ClientCreatePage(manager=manager))

    action = page_action(request.POST)
    if action is not None:
        return _create_page(
            request, ClientCreatePage.refreshed(manager=manager, data=request.POST, action=action)
        )
    token = parse_token(request.POST.get("creation_token"))
    if token is None:
        page = ClientCreatePage.refreshed(manager=manager, data=request.POST)
        page.page_errors.append(_("This page has expired; check it and submit again."))
        return _create_page(request, page)
    # A second submit of a page that already made its client: no validation,
    # which could only fail now (the new owner's email is taken by then).
    existing = selectors.client_created_from_page(manager=manager, token=token)
    if existing is not None:
        messages.info(request, _("This client was already created from this page."))
        return redirect("clients:detail", client_id=existing.pk)

    page = ClientCreatePage(manager=manager, data=request.POST, token=token)
    if page.is_valid():
        try:
            client = services.client_create(actor=manager, **page.service_arguments())
        except services.DuplicateSubmission as duplicate:
            messages.info(request, _("This client was already created from this page."))
            return redirect("clients:detail", client_id=duplicate.client.pk)
        except ValidationError as error:
            page.add_service_errors(error)
        else:
            messages.success(request, _("The client %(name)s is created.") % {"name": client.name})
            return redirect("clients:detail", client_id=client.pk)
    return _create_page(request, page)


@require_http_methods(["POST"])
@manager_required
def client_create_type(request: HttpRequest) -> HttpResponse:
    """htmx: the parts of the Add client page that depend on the client type,
    the company-name field and, out of band, the Additional information
    section, for the type chosen in the posted page."""
    page = ClientCreatePage.refreshed(manager=request.manager, data=request.POST)
    return render(request, "clients/_create_type_parts.html", {"page": page})


@require_safe
@manager_required
def client_owner_search(request: HttpRequest) -> HttpResponse:
    """htmx: the users the manager may make the owner, matching the query by
    name or email (at least two characters, at most twenty users)."""
    query = request.GET.get("owner-query", request.GET.get("q", "")).replace("\x00", "")
    users = owner_search(reseller=request.manager.reseller, query=query)
    return render(
        request,
        "clients/_create_owner_results.html",
        {"users": users, "query": query, "searched": True},
    )
