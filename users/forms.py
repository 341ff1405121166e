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
    and admins): a client's user sets a password through the invitation.
    ``recipients`` (user ids), when set, narrows the users further: the ones
    ``users.password_reset.password_reset_send`` found due for a link."""

    recipients: set[int] | None = None

    def get_users(self, email: str) -> Iterator:
        for user in super().get_users(email):
            if self.recipients is not None and user.pk not in self.recipients:
                continue
            if EmailBackend().user_can_authenticate(user):
                yield user


class PasswordResetRequestForm(forms.Form):
    """The "forgot password" request: only the email. The view hands it to
    ``users.services.password_reset_request``, which queues the email without
    looking the address up, so neither the page nor its timing tells whether
    an account exists."""

    email = forms.EmailField(
        label=_("Email"),
        max_length=254,
        widget=forms.EmailInput(attrs={"autocomplete": "email"}),
    )
