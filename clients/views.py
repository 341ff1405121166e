"""Pages of the Clients section."""

from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from clients import selectors
from users.access import manager_required


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
