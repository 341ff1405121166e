"""The panel's "API tokens" page: a manager creates and revokes their own
tokens and sees their storefront link."""

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from api import selectors, services
from api.forms import ApiTokenCreateForm
from users.access import manager_required

# The new token waits here for the one page that shows it (POST, redirect, GET).
_SHOW_ONCE = "api_token_shown_once"


@require_http_methods(["GET", "POST"])
@manager_required
def token_list(request: HttpRequest) -> HttpResponse:
    """The signed-in manager's tokens, the form for a new one (shown once
    after creation, then only its first characters) and their storefront link."""
    manager = request.manager
    form = ApiTokenCreateForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        token, secret = services.api_token_create(
            manager=manager,
            name=form.cleaned_data["name"],
            expires_at=form.expires_at(),
            created_by=request.user,
        )
        request.session[_SHOW_ONCE] = {"id": token.pk, "secret": secret}
        return redirect("api_tokens:list")
    shown = request.session.pop(_SHOW_ONCE, None)
    response = render(
        request,
        "api/tokens.html",
        {
            "form": form,
            "tokens": selectors.api_token_list(manager=manager),
            "new_token": shown,
            "storefront_link": selectors.storefront_link(manager=manager),
            "reseller": manager.reseller,
        },
    )
    if shown:
        response["Cache-Control"] = "no-store"
    return response


@require_POST
@manager_required
def token_revoke(request: HttpRequest, token_id: int) -> HttpResponse:
    """Revoke one of the signed-in manager's tokens; another's answers 404."""
    token = selectors.api_token_get(manager=request.manager, token_id=token_id)
    if token is None:
        raise Http404("No such token.")
    services.api_token_revoke(token=token)
    messages.success(request, _("The token “%(name)s” is revoked.") % {"name": token.name})
    return redirect("api_tokens:list")
