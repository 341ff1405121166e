"""Pages of the Clients section."""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_http_methods, require_safe

from clients import selectors, services
from clients.directory import directory_enabled, directory_suggest_answer
from clients.export import client_csv, client_csv_columns
from clients.forms import (
    AUTOFILL_COUNT,
    AUTOFILL_MIN_QUERY,
    AutofillOption,
    AutofillRequest,
    ClientCreatePage,
    autofill_values,
    page_action,
    parse_token,
)
from clients.forms_actions import ClientPostpayForm, ClientStatusForm
from clients.forms_list import ClientListForm
from clients.models import Client, ClientStatus, PostpayPermission
from notifications.selectors import delivery_list_for_client
from rules import selectors as rules_selectors
from users import roles
from users.access import manager_permission_required, manager_required
from users.selectors import owner_search

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


def _list_columns(*, sort: str, show_postpay: bool, show_reseller: bool) -> list[dict]:
    """The header cells: each column's label, its sort state and the sort a
    click on it asks for (ascending first, then the reverse)."""
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
                "next_sort": f"-{key}" if direction == "asc" else key,
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
    return render(
        request,
        "clients/list.html",
        {
            "form": form,
            "query": form.data,
            "page": page,
            "total": _list_total(request, page=page, filters=filters, cursor=cursor),
            "columns": _list_columns(
                sort=sort, show_postpay=show_postpay, show_reseller=show_reseller
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
    events = Paginator(selectors.client_event_list(client=client), EVENTS_PER_PAGE).get_page(
        request.GET.get("events_page", "").replace("\x00", "")
    )
    return render(
        request,
        "clients/detail.html",
        {
            "client": client,
            "accesses": selectors.client_access_list(client=client),
            "attribute_rows": selectors.client_attribute_rows(client=client),
            "events": events,
            "deliveries": delivery_list_for_client(client=client)[:DELIVERIES_SHOWN],
            # Actions the manager's role may not take are not offered (users.roles).
            "status_targets": services.client_status_targets(client=client)
            if request.user.has_perm(roles.perm(roles.CHANGE_STATUS))
            else [],
            "show_postpay": client.reseller.postpay_is_manual,
            "postpay_can_decide": services.client_postpay_can_decide(client=client)
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
        if status not in services.client_status_targets(client=client):
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
        if not services.client_postpay_can_decide(client=client):
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
        return _already_created(request, existing)

    page = ClientCreatePage(manager=manager, data=request.POST, token=token)
    if page.is_valid():
        try:
            client = services.client_create(actor=manager, **page.service_arguments())
        except services.DuplicateSubmission as duplicate:
            return _already_created(request, duplicate.client)
        except ValidationError as error:
            page.add_service_errors(error)
        else:
            messages.success(request, _("The client %(name)s is created.") % {"name": client.name})
            return redirect("clients:detail", client_id=client.pk)
    else:
        # A submit racing another of the same page may have failed only because
        # the other one committed meanwhile (its new owner's email is taken by
        # then); the service makes the same check for its own errors.
        existing = selectors.client_created_from_page(manager=manager, token=token)
        if existing is not None:
            return _already_created(request, existing)
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
    users.selectors.owner_search)."""
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
