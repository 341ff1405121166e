"""Views of the users app that are more than Django's own auth views."""

from axes.helpers import get_client_ip_address
from django.contrib.auth import views as auth_views
from django.http import HttpResponseRedirect
from django.urls import reverse_lazy

from users.forms import PasswordResetRequestForm
from users.services import password_reset_request


class PasswordResetRequestView(auth_views.PasswordResetView):
    """The "forgot password" page: every valid email, known, unknown or over
    a limit, gets the same redirect to the same page;
    ``password_reset_request`` decides whether anything is sent."""

    template_name = "users/password_reset_form.html"
    form_class = PasswordResetRequestForm
    success_url = reverse_lazy("password_reset_done")

    def form_valid(self, form: PasswordResetRequestForm) -> HttpResponseRedirect:
        password_reset_request(
            email=form.cleaned_data["email"],
            address=get_client_ip_address(self.request) or "",
            domain=self.request.get_host(),
            use_https=self.request.is_secure(),
        )
        return HttpResponseRedirect(self.get_success_url())
