from django import forms
from django.contrib.auth.forms import SetPasswordForm
from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _

from notifications.models import TemplateContent
from notifications.rendering import SAMPLE_CONTEXT, template_source_check


class OwnerPasswordForm(SetPasswordForm):
    """Django's set-password form (with AUTH_PASSWORD_VALIDATORS); the view
    hands the password to ``services.owner_password_set`` instead of ``save``."""


class TemplateContentForm(forms.ModelForm):
    """A template's text in one language; each part is checked against the
    documented context when saved, so a broken template never reaches sending."""

    class Meta:
        model = TemplateContent
        fields = ["language", "subject", "body_text", "body_html"]
        help_texts = {
            "body_text": format_lazy(
                "{} {}", _("Django template syntax. Variables:"), ", ".join(SAMPLE_CONTEXT)
            ),
        }

    def _check(self, field: str, *, html: bool = False) -> str:
        value = self.cleaned_data.get(field, "")
        if value:
            template_source_check(source=value, html=html)
        return value

    def clean_subject(self) -> str:
        return self._check("subject")

    def clean_body_text(self) -> str:
        return self._check("body_text")

    def clean_body_html(self) -> str:
        return self._check("body_html", html=True)
