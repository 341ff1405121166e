"""The client list and its CSV export: search, filters, sort and pages, all
in the URL."""

from urllib.parse import urlencode

from django.http import HttpRequest, HttpResponse, QueryDict, StreamingHttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_safe

from clients import selectors
from clients.export import client_csv, client_csv_columns
from clients.forms.list import ClientListForm
from users import roles
from users.access import manager_permission_required, manager_required

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
        client_csv(clients=clients, columns=columns), content_type="text/csv; charset=utf-8"
    )
    stamp = timezone.localtime().strftime("%Y%m%d-%H%M")
    response["Content-Disposition"] = f'attachment; filename="clients-{stamp}.csv"'
    return response
