"""After creation, from the client page: the manager, the client's users
and their access levels, the ownership."""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_http_methods, require_safe

from clients import selectors, services
from clients.forms.actions import (
    ClientManagerForm,
    ClientUserAddForm,
    ClientUserLevelForm,
    ClientUserPickForm,
    UserMode,
)
from clients.models import AccessLevel, Client, ClientAccess
from clients.views.detail import _offered_managers, _refuse
from users import roles
from users.access import manager_permission_required
from users.selectors import user_get_active


@require_http_methods(["GET", "POST"])
@manager_permission_required(roles.CHANGE_MANAGER)
def client_manager_change(request: HttpRequest, client_id: int) -> HttpResponse:
    """GET: the page of the manager form (the client page shows it in a
    dialog). POST: give the client another manager, or none, through
    ``services.client_set_manager``; choosing the current one changes
    nothing and says so."""
    client = selectors.client_get(manager=request.manager, client_id=client_id)
    form = ClientManagerForm(
        request.POST if request.method == "POST" else None,
        client=client,
        offered=_offered_managers(client),
    )
    if request.method == "POST":
        if not form.is_valid():
            return _refuse(request, client, ValidationError(_("Choose a manager.")))
        chosen = form.cleaned_data["manager"]
        if (chosen.pk if chosen else None) == client.manager_id:
            messages.info(request, _("This is the client's manager already."))
            return redirect("clients:detail", client_id=client.pk)
        try:
            services.client_set_manager(actor=request.manager, client=client, manager=chosen)
        except ValidationError as error:
            return _refuse(request, client, error)
        if chosen is None:
            messages.success(request, _("The client has no manager now."))
        else:
            messages.success(
                request, _("The client's manager is now %(manager)s.") % {"manager": chosen}
            )
        return redirect("clients:detail", client_id=client.pk)
    return render(request, "clients/manager_change.html", {"client": client, "manager_form": form})


def _client_access(request: HttpRequest, client: Client, data) -> ClientAccess | None:
    """The access of the user named in the request, or None (with a message)
    when the form is broken or the user has no access to the client."""
    form = ClientUserPickForm(data)
    if not form.is_valid():
        messages.error(request, _("Choose a user of this client."))
        return None
    access = selectors.client_access_for_user(client=client, user_id=form.cleaned_data["user"])
    if access is None:
        messages.info(request, _("This user has no access to this client (any more)."))
    return access


def _to_users(client: Client) -> HttpResponse:
    return redirect(reverse("clients:detail", args=[client.pk]) + "#users")


@require_http_methods(["POST"])
@manager_permission_required(roles.MANAGE_USERS)
def client_user_level(request: HttpRequest, client_id: int) -> HttpResponse:
    """Change a user's access level (not the owner's) through
    ``services.client_access_set_level``."""
    client = selectors.client_get(manager=request.manager, client_id=client_id)
    access = _client_access(request, client, request.POST)
    if access is None:
        return _to_users(client)
    form = ClientUserLevelForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Choose Admin, Finance manager or User."))
        return _to_users(client)
    level = AccessLevel(form.cleaned_data["level"])
    try:
        _access, changed = services.client_access_set_level(
            actor=request.manager, client=client, user=access.user, level=level
        )
    except ValidationError as error:
        for message in error.messages:
            messages.error(request, message)
        return _to_users(client)
    labels = {"user": access.user.get_full_name() or access.user.email, "level": level.label}
    if changed:
        messages.success(request, _("%(user)s is now %(level)s.") % labels)
    else:
        messages.info(request, _("%(user)s is %(level)s already.") % labels)
    return _to_users(client)


@require_http_methods(["GET", "POST"])
@manager_permission_required(roles.MANAGE_USERS)
def client_user_remove(request: HttpRequest, client_id: int) -> HttpResponse:
    """GET: the confirmation page of a removal (the client page asks in a
    dialog). POST: take the user's access away through
    ``services.client_access_remove``; the owner cannot be removed."""
    client = selectors.client_get(manager=request.manager, client_id=client_id)
    access = _client_access(
        request, client, request.POST if request.method == "POST" else request.GET
    )
    if access is None:
        return _to_users(client)
    if request.method == "GET":
        return render(
            request, "clients/user_remove_confirm.html", {"client": client, "access": access}
        )
    try:
        removed = services.client_access_remove(
            actor=request.manager, client=client, user=access.user
        )
    except ValidationError as error:
        for message in error.messages:
            messages.error(request, message)
        return _to_users(client)
    name = access.user.get_full_name() or access.user.email
    if removed:
        messages.success(
            request, _("%(user)s no longer has access to this client.") % {"user": name}
        )
    else:
        messages.info(request, _("This user has no access to this client (any more)."))
    return _to_users(client)


@require_http_methods(["GET", "POST"])
@manager_permission_required(roles.TRANSFER_OWNERSHIP)
def client_ownership_transfer(request: HttpRequest, client_id: int) -> HttpResponse:
    """GET: the confirmation page of a transfer of ownership. POST: make the
    user the owner through ``services.client_ownership_transfer`` (the old
    owner becomes an Admin)."""
    client = selectors.client_get(manager=request.manager, client_id=client_id)
    access = _client_access(
        request, client, request.POST if request.method == "POST" else request.GET
    )
    if access is None:
        return _to_users(client)
    if request.method == "GET":
        return render(
            request,
            "clients/ownership_transfer_confirm.html",
            {
                "client": client,
                "access": access,
                "owner": selectors.client_owner_access(client=client),
            },
        )
    try:
        transferred = services.client_ownership_transfer(
            actor=request.manager, client=client, user=access.user
        )
    except ValidationError as error:
        for message in error.messages:
            messages.error(request, message)
        return _to_users(client)
    name = access.user.get_full_name() or access.user.email
    if transferred:
        messages.success(
            request,
            _("%(user)s is now the owner; the previous owner is an Admin.") % {"user": name},
        )
    else:
        messages.info(request, _("%(user)s is the owner already.") % {"user": name})
    return _to_users(client)


def _user_add_page(
    request: HttpRequest,
    client: Client,
    form: ClientUserAddForm,
    *,
    results: list | None = None,
    query: str = "",
) -> HttpResponse:
    form.enable_search(reverse("clients:user_search", args=[client.pk]))
    return render(
        request,
        "clients/user_add.html",
        {"client": client, "form": form, "results": results, "query": query},
    )


@require_http_methods(["GET", "POST"])
@manager_permission_required(roles.MANAGE_USERS)
def client_user_add(request: HttpRequest, client_id: int) -> HttpResponse:
    """The Add a user page: an access level and an existing user (the same
    search as the owner picker) or a new user to invite, through
    ``services.client_access_add`` / ``services.client_user_invite``. A
    submit that typed a query but chose nobody (the "Find" button, Enter in
    the search box) shows the matches. Adding the same user twice (a double
    submit) adds once and says so."""
    client = selectors.client_get(manager=request.manager, client_id=client_id)
    if request.method == "GET":
        return _user_add_page(request, client, ClientUserAddForm())
    form = ClientUserAddForm(request.POST)
    valid = form.is_valid()
    existing_mode = form.cleaned_data.get("mode") == UserMode.EXISTING
    query = (form["query"].value() or "").replace("\x00", "")[:200]
    if "_find" in request.POST or (existing_mode and query and not form.cleaned_data.get("user")):
        found = ClientUserAddForm(
            initial={**form.cleaned_data, "mode": UserMode.EXISTING, "query": query}
        )
        return _user_add_page(
            request,
            client,
            found,
            results=selectors.client_user_candidates(client=client, query=query),
            query=query,
        )
    if valid:
        level = AccessLevel(form.cleaned_data["level"])
        try:
            if existing_mode:
                user = user_get_active(user_id=form.cleaned_data["user"])
                if user is None:
                    raise ValidationError(
                        {"user": [_("Select a user of your reseller's clients.")]}
                    )
                access, created = services.client_access_add(
                    actor=request.manager, client=client, user=user, level=level
                )
            else:
                access, created = services.client_user_invite(
                    actor=request.manager, client=client, new_user=form.new_user(), level=level
                )
        except ValidationError as error:
            form.add_service_errors(error)
        else:
            labels = {
                "user": access.user.get_full_name() or access.user.email,
                "level": access.get_level_display(),
            }
            if created:
                messages.success(request, _("%(user)s now has access as %(level)s.") % labels)
            else:
                messages.info(request, _("%(user)s already has access as %(level)s.") % labels)
            return _to_users(client)
    return _user_add_page(request, client, form)


@require_safe
@manager_permission_required(roles.MANAGE_USERS)
def client_user_search(request: HttpRequest, client_id: int) -> HttpResponse:
    """htmx: the users the manager may give access to this client, matching
    the query by name or email (the owner picker's search: at least three
    characters, at most twenty users); those who have access already are
    shown with their level and cannot be chosen."""
    client = selectors.client_get(manager=request.manager, client_id=client_id)
    query = request.GET.get("user-query", "").replace("\x00", "")
    return render(
        request,
        "clients/_user_search_results.html",
        {
            "results": selectors.client_user_candidates(client=client, query=query),
            "query": query,
            "searched": True,
        },
    )
