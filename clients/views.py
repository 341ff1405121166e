"""Pages of the Clients section."""

from urllib.parse import urlencode

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse, QueryDict, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_http_methods, require_safe

from clients import selectors, services
from clients.autofill import (
    AUTOFILL_COUNT,
    AUTOFILL_MIN_QUERY,
    AutofillOption,
    AutofillRequest,
    autofill_values,
)
from clients.directory import directory_enabled, directory_suggest_answer
from clients.export import client_csv, client_csv_columns
from clients.forms.actions import (
    ClientManagerForm,
    ClientPostpayForm,
    ClientStatusForm,
    ClientUserAddForm,
    ClientUserLevelForm,
    ClientUserPickForm,
    UserMode,
)
from clients.forms.edit import ACTION_APPLY_TYPE, ClientEditPage
from clients.forms.list import ClientListForm
from clients.forms.page import ClientCreatePage, page_action
from clients.models import AccessLevel, Client, ClientAccess, ClientStatus, PostpayPermission
from clients.selectors import owner_search
from notifications.selectors import delivery_list_for_client
from rules import selectors as rules_selectors
from users import roles
from users.access import manager_permission_required, manager_required
from users.selectors import manager_list_active, user_get_active

# The list's columns in screen order: (sort key, label). The postpay column is
# shown only while the reseller decides postpay by hand, the reseller column
# only to the root reseller's staff.
LIST_COLUMNS = [
    ("id", _("ID")),
    ("reseller", _("Reseller")),
    ("name", _("Name")),
    ("status", _("Status")),
    ("rule", _("Service rule")),
    ("type", _("Client type")),
    ("manager", _("Manager")),
    ("country", _("Country")),
    ("city", _("City")),
    ("phone", _("Phone")),
    ("owner", _("Owner")),
    ("owner_email", _("Owner email")),
    ("created", _("Created at")),
    ("postpay", _("Postpay permission")),
]
EVENTS_PER_PAGE = 50
DELIVERIES_SHOWN = 50  # the latest ones


def _list_form(request: HttpRequest) -> ClientListForm:
    form = ClientListForm(request.GET, manager=request.manager)
    form.is_valid()  # invalid parameters are dropped one by one, not the whole form
    return form


class _ListLinks:
    """The list's own links (column headers, pages, the export): the
    current query with some keys changed and the page's position left out,
    as Django's ``{% querystring %}`` writes them. The query is encoded once
    per page, key by key, rather than copied and encoded again for each of
    the page's twenty links."""

    POSITION = ("page", "after", "before", "last")

    def __init__(self, query: QueryDict) -> None:
        self.encoded = {
            key: "&".join(urlencode({key: value}) for value in values)
            for key, values in query.lists()
        }

    def __call__(self, **changes: object) -> str:
        # A key changed keeps its place in the query (a new one goes last).
        encoded = dict(self.encoded)
        for key in self.POSITION:
            if key not in changes:
                encoded.pop(key, None)
        for key, value in changes.items():
            if value is None:
                encoded.pop(key, None)
            else:
                encoded[key] = urlencode({key: value})
        return "?" + "&".join(part for part in encoded.values() if part)


def _list_columns(
    *, sort: str, show_postpay: bool, show_reseller: bool, links: _ListLinks
) -> list[dict]:
    """The header cells: each column's label, its sort state and the link a
    click on it follows (ascending first, then the reverse)."""
    columns = []
    for key, label in LIST_COLUMNS:
        if (key == "postpay" and not show_postpay) or (key == "reseller" and not show_reseller):
            continue
        direction = "asc" if sort == key else "desc" if sort == f"-{key}" else ""
        columns.append(
            {
                "key": key,
                "label": label,
                "direction": direction,
                "href": links(sort=f"-{key}" if direction == "asc" else key),
            }
        )
    return columns


def _list_total(
    request: HttpRequest,
    *,
    page: selectors.ClientPage,
    filters: selectors.ClientListFilters,
    cursor: dict,
) -> selectors.ClientTotal:
    """How many clients match: a page with rows and neither a previous nor a
    next page holds them all, as does an empty first page; otherwise exact
    up to 10,000, an estimate past that (no unbounded COUNT, see
    selectors.client_list_total)."""
    whole = page.clients or not any(cursor.values())
    if whole and not page.has_previous and not page.has_next:
        return selectors.ClientTotal(number=len(page.clients))
    return selectors.client_list_total(manager=request.manager, filters=filters)


@require_safe
@manager_required
def client_list(request: HttpRequest) -> HttpResponse:
    """The clients the manager may see: search, filters, sort by column and
    pagination, all in the URL so that a view can be bookmarked and shared."""
    form = _list_form(request)
    reseller = request.manager.reseller
    sort = form.sort_value()
    filters = form.filters()
    cursor = form.cursor()
    # Keyset pagination: no OFFSET (see selectors).
    page = selectors.client_list_page(
        manager=request.manager,
        filters=filters,
        sort=sort,
        size=form.page_size(),
        choices=form.choices,
        **cursor,
    )
    show_postpay = reseller.postpay_is_manual
    show_reseller = reseller.is_root
    links = _ListLinks(form.data)
    return render(
        request,
        "clients/list.html",
        {
            "form": form,
            "links": {
                "first": links(),
                "previous": links(before=page.previous_cursor) if page.has_previous else "",
                "next": links(after=page.next_cursor) if page.has_next else "",
                "last": links(last=1),
            },
            "page": page,
            "total": _list_total(request, page=page, filters=filters, cursor=cursor),
            "columns": _list_columns(
                sort=sort, show_postpay=show_postpay, show_reseller=show_reseller, links=links
            ),
            "show_postpay": show_postpay,
            "show_reseller": show_reseller,
        },
    )


@require_safe
@manager_permission_required(roles.EXPORT_CLIENTS)
def client_export(request: HttpRequest) -> StreamingHttpResponse:
    """The list as it is filtered and sorted on screen, every page of it, as
    a CSV file streamed as it is written (by PostgreSQL's COPY there)."""
    form = _list_form(request)
    reseller = request.manager.reseller
    clients = selectors.client_list(
        manager=request.manager, filters=form.filters(), sort=form.sort_value()
    )
    columns = client_csv_columns(
        show_postpay=reseller.postpay_is_manual, show_reseller=reseller.is_root
    )
    response = StreamingHttpResponse(
        client_csv(clients=clients, columns=columns),
        content_type="text/csv; charset=utf-8",
    )
    stamp = timezone.localtime().strftime("%Y%m%d-%H%M")
    response["Content-Disposition"] = f'attachment; filename="clients-{stamp}.csv"'
    return response


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


# --- The Add client page -------------------------------------------------------


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


# --- After creation: manager, users and access levels -----------------------------


def _offered_managers(client: Client):
    return manager_list_active(reseller=client.reseller)


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


# --- The Edit client page ------------------------------------------------------------


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
