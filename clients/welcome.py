"""The owner's welcome: the password-setup page and the terms-acceptance
page, reached from the emails, open to anyone holding a valid link (the
owner is no manager of this panel).

They are client pages: the owner's acceptance of the terms is a change of
the client, written by ``clients.services`` with its event-log entry. The
links' tokens and the password itself are the notifications app's
(``notifications.selectors``, ``notifications.services``), which clients may
call; notifications never import clients' services or pages.
"""

from axes.helpers import get_client_ip_address
from django.conf import settings
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.cache import never_cache
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_http_methods, require_safe

from clients.forms.welcome import OwnerPasswordForm, TermsAcceptanceForm
from clients.selectors import client_list_awaiting_owner_terms
from clients.services import client_owner_welcome, client_terms_accept_by_owner
from notifications import selectors

SESSION_EMAIL_KEY = "notifications_password_set_email"
SESSION_TERMS_KEY = "notifications_terms_accepted"


@sensitive_post_parameters("new_password1", "new_password2")
@never_cache
@require_http_methods(["GET", "POST"])
def password_setup(request: HttpRequest, uidb64: str, token: str) -> HttpResponse:
    """Show the set-password form for a valid link, set the password on a
    valid submit; a used, expired or broken link gets a page that says so."""
    check = selectors.invitation_check(uidb64=uidb64, token=token)
    if check.state != "valid":
        return render(
            request, "clients/welcome/password_setup_invalid.html", {"state": check.state}
        )
    # The terms of the clients this user owns that wait for the owner: accepted
    # here, with the password, or the password is not set.
    terms_clients = client_list_awaiting_owner_terms(user=check.user)
    form = OwnerPasswordForm(
        check.user,
        request.POST if request.method == "POST" else None,
        terms_clients=terms_clients,
    )
    if request.method == "POST" and form.is_valid():
        try:
            user = client_owner_welcome(
                user=check.user,
                token=token,
                password=form.cleaned_data["new_password1"],
                # Each box is required: a valid form has them all ticked.
                accept_terms_of=terms_clients,
                address=get_client_ip_address(request) or None,
            )
        except ValidationError:
            # Another submit of the same link won the race.
            return render(request, "clients/welcome/password_setup_invalid.html", {"state": "used"})
        request.session[SESSION_EMAIL_KEY] = user.email
        return redirect("welcome:password_setup_done")
    return render(
        request, "clients/welcome/password_setup.html", {"form": form, "owner": check.user}
    )


@require_safe
def password_setup_done(request: HttpRequest) -> HttpResponse:
    """The confirmation after the password is set."""
    return render(
        request,
        "clients/welcome/password_setup_done.html",
        {
            "email": request.session.get(SESSION_EMAIL_KEY, ""),
            "client_area_url": settings.CLIENT_AREA_URL,
        },
    )


@never_cache
@require_http_methods(["GET", "POST"])
def terms_accept(request: HttpRequest, token: str) -> HttpResponse:
    """The owner's acceptance of a client's terms through the link of an
    email (an owner who already has a password): the reseller's terms URL
    and an "I accept" box; accepted, expired or broken links get a page that
    says so."""
    check = selectors.terms_acceptance_check(token=token)
    if check.state != "valid":
        return render(
            request,
            "clients/welcome/terms_accept_invalid.html",
            {"state": check.state, "client": check.client},
        )
    form = TermsAcceptanceForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        try:
            client_terms_accept_by_owner(
                client=check.client, user=check.user, address=get_client_ip_address(request)
            )
        except ValidationError:
            # The ownership moved, or the terms stopped waiting, since the check.
            return render(
                request, "clients/welcome/terms_accept_invalid.html", {"state": "invalid"}
            )
        request.session[SESSION_TERMS_KEY] = check.client.name
        return redirect("welcome:terms_accept_done")
    return render(
        request,
        "clients/welcome/terms_accept.html",
        {"form": form, "client": check.client, "owner": check.user},
    )


@require_safe
def terms_accept_done(request: HttpRequest) -> HttpResponse:
    """The confirmation after the owner accepted the terms."""
    return render(
        request,
        "clients/welcome/terms_accept_done.html",
        {
            "client_name": request.session.get(SESSION_TERMS_KEY, ""),
            "client_area_url": settings.CLIENT_AREA_URL,
        },
    )
