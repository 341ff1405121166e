from django import forms
from django.contrib.auth.forms import SetPasswordForm
from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _

from notifications.models import TemplateContent
from notifications.rendering import SAMPLE_CONTEXT
from notifications.template_library import ALLOWED_FILTERS, ALLOWED_TAGS


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


class TemplateContentForm(forms.ModelForm):
    """A template's text in one language. ``TemplateContent.clean`` checks
    each part (allowed tags and filters, syntax, the documented context), so a
    broken template never reaches sending."""

    class Meta:
        model = TemplateContent
        fields = ["language", "subject", "body_text", "body_html"]
        help_texts = {
            "body_text": format_lazy(
                "{} {}. {} {}. {} {}.",
                _("Django template syntax. Variables:"),
                ", ".join(SAMPLE_CONTEXT),
                _("Tags:"),
                ", ".join(ALLOWED_TAGS),
                _("Filters:"),
                ", ".join(sorted(ALLOWED_FILTERS)),
            ),
        }
