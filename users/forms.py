from collections.abc import Iterator

from django import forms
from django.contrib.auth.forms import AuthenticationForm, PasswordResetForm
from django.utils.translation import gettext_lazy as _

from users.backends import EmailBackend


class LoginForm(AuthenticationForm):
    """Django's sign-in form with the email as the login."""

    username = forms.EmailField(
        label=_("Email"),
        widget=forms.EmailInput(attrs={"autofocus": True, "autocomplete": "email"}),
    )


class PanelPasswordResetForm(PasswordResetForm):
    """Django's reset form, for the panel's own people only (active managers
    and admins): a client's user sets a password through the invitation."""

    def get_users(self, email: str) -> Iterator:
        for user in super().get_users(email):
            if EmailBackend().user_can_authenticate(user):
                yield user


class PasswordResetRequestForm(PanelPasswordResetForm):
    """The "forgot password" request. ``save`` only queues a task with the
    typed email and never looks the email up: a known and an unknown email
    cost the request the same work and get the same answer, so neither the
    page nor its timing tells whether an account exists."""

    def save(self, *, domain_override=None, use_https=False, request=None, **kwargs) -> None:
        from users.tasks import send_password_reset

        domain = domain_override or (request.get_host() if request else "localhost")
        send_password_reset.enqueue(
            email=self.cleaned_data["email"], domain=domain, use_https=use_https
        )
