"""The owner's password-setup page: reached from the "client created" email,
open to anyone holding a valid link (the owner is no manager of this panel)."""

from django.conf import settings
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.cache import never_cache
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_http_methods, require_safe

from notifications import selectors, services
from notifications.forms import OwnerPasswordForm

SESSION_EMAIL_KEY = "notifications_password_set_email"


@sensitive_post_parameters("new_password1", "new_password2")
@never_cache
@require_http_methods(["GET", "POST"])
def password_setup(request: HttpRequest, uidb64: str, token: str) -> HttpResponse:
    """Show the set-password form for a valid link, set the password on a
    valid submit; a used, expired or broken link gets a page that says so."""
    check = selectors.invitation_check(uidb64=uidb64, token=token)
    if check.state != "valid":
        return render(request, "notifications/password_setup_invalid.html", {"state": check.state})
    form = OwnerPasswordForm(check.user, request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        try:
            user = services.owner_password_set(
                user=check.user, token=token, password=form.cleaned_data["new_password1"]
            )
        except ValidationError:
            # Another submit of the same link won the race.
            return render(request, "notifications/password_setup_invalid.html", {"state": "used"})
        request.session[SESSION_EMAIL_KEY] = user.email
        return redirect("notifications:password_setup_done")
    return render(request, "notifications/password_setup.html", {"form": form, "owner": check.user})


@require_safe
def password_setup_done(request: HttpRequest) -> HttpResponse:
    """The confirmation after the password is set."""
    return render(
        request,
        "notifications/password_setup_done.html",
        {
            "email": request.session.get(SESSION_EMAIL_KEY, ""),
            "client_area_url": settings.CLIENT_AREA_URL,
        },
    )
