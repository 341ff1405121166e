from django import forms
from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _

from notifications.models import TemplateContent
from notifications.rendering import SAMPLE_CONTEXT
from notifications.template_library import ALLOWED_FILTERS, ALLOWED_TAGS


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
