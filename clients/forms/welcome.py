"""The forms of the owner's welcome pages (clients/welcome.py)."""

from django import forms
from django.contrib.auth.forms import SetPasswordForm
from django.utils.translation import gettext_lazy as _


def terms_field_name(client) -> str:
    return f"accept_terms_{client.pk}"


class OwnerPasswordForm(SetPasswordForm):
    """Django's set-password form (with AUTH_PASSWORD_VALIDATORS) and, for
    each client the user owns whose terms wait for them, an "I accept" box
    that must be ticked; the view hands the password and the accepted
    clients to ``clients.services.client_owner_welcome`` instead of ``save``."""

    def __init__(self, user, *args, terms_clients=(), **kwargs) -> None:
        super().__init__(user, *args, **kwargs)
        self.terms_clients = list(terms_clients)
        for client in self.terms_clients:
            self.fields[terms_field_name(client)] = forms.BooleanField(
                label=_("I accept the terms and conditions of %(reseller)s for %(client)s")
                % {"reseller": client.reseller.name, "client": client.name},
                error_messages={"required": _("Accept the terms and conditions to go on.")},
            )

    def terms_rows(self) -> list[tuple]:
        """(client, its checkbox) for the template, which links each terms URL."""
        return [(client, self[terms_field_name(client)]) for client in self.terms_clients]


class TermsAcceptanceForm(forms.Form):
    """The one box of the terms-acceptance page."""

    accept = forms.BooleanField(
        label=_("I accept the terms and conditions"),
        error_messages={"required": _("Accept the terms and conditions to go on.")},
    )
