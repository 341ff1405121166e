"""The Additional information section: a field per attribute of the chosen
client type, built by one factory per value type."""

from collections.abc import Callable, Mapping

from crispy_forms.layout import Div, Layout
from django import forms
from django.utils.translation import gettext_lazy as _

from clients.autofill import AUTOFILL_INN_LISTBOX, autofill_input_attrs
from clients.forms.sections import Include, SectionForm
from clients.inputs import AttributeValues
from rules import validation
from rules.models import ATTRIBUTE_VALUE_MAX_LENGTH, Attribute, AttributeValueType, ClientType
from users.models import AutofillField


def _string_field(attribute: Attribute, **options) -> forms.Field:
    return forms.CharField(max_length=ATTRIBUTE_VALUE_MAX_LENGTH, **options)


def _text_field(attribute: Attribute, **options) -> forms.Field:
    return forms.CharField(
        widget=forms.Textarea(attrs={"rows": 3}), max_length=ATTRIBUTE_VALUE_MAX_LENGTH, **options
    )


def _checkbox_field(attribute: Attribute, **options) -> forms.Field:
    return forms.BooleanField(**options)


def _date_field(attribute: Attribute, **options) -> forms.Field:
    return forms.DateField(
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"), **options
    )


def _password_field(attribute: Attribute, **options) -> forms.Field:
    # Never sent back to the browser: an operator retypes it after an error.
    return forms.CharField(
        widget=forms.PasswordInput(render_value=False),
        strip=False,
        max_length=ATTRIBUTE_VALUE_MAX_LENGTH,
        **options,
    )


def _list_field(attribute: Attribute, **options) -> forms.Field:
    choices = [("", "—"), *((option.key, option.name) for option in attribute.options.all())]
    return forms.ChoiceField(choices=choices, **options)


ATTRIBUTE_FIELD_FACTORIES: Mapping[str, Callable[..., forms.Field]] = {
    AttributeValueType.STRING: _string_field,
    AttributeValueType.TEXT: _text_field,
    AttributeValueType.CHECKBOX: _checkbox_field,
    AttributeValueType.DATE: _date_field,
    AttributeValueType.PASSWORD: _password_field,
    AttributeValueType.LIST: _list_field,
}


class AttributesForm(SectionForm):
    """The chosen type's attributes, lightest first; field names are the
    keys. The fields read dates, ticks and list choices; the formats and the
    INN, KPP and OGRN checks are the service's."""

    section = "attributes"
    title = _("Additional information")

    # Which type the fields were rendered for: after a type switch only the
    # values the new type shares are carried over.
    rendered_for = forms.CharField(required=False, widget=forms.HiddenInput)

    def __init__(
        self,
        *args,
        attributes: list[Attribute],
        client_type: ClientType | None,
        autofill: bool = False,
        **kwargs,
    ) -> None:
        self.attributes = attributes
        self.autofill = autofill
        super().__init__(*args, **kwargs)
        self.fields["rendered_for"].initial = client_type.pk if client_type else ""
        for attribute in attributes:
            factory = ATTRIBUTE_FIELD_FACTORIES[attribute.value_type]
            self.fields[attribute.key] = factory(
                attribute,
                label=attribute.name,
                required=attribute.required,
                initial=validation.attribute_default(attribute),
            )
            if self.asks_directory(attribute):
                self.fields[attribute.key].widget.attrs.update(
                    autofill_input_attrs(AUTOFILL_INN_LISTBOX)
                )
        self.helper.layout = self.build_layout()

    def asks_directory(self, attribute: Attribute) -> bool:
        """The INN attribute suggests companies too, when autofill is on."""
        return (
            self.autofill
            and attribute.key == AutofillField.INN
            and attribute.value_type == AttributeValueType.STRING
        )

    def build_layout(self) -> Layout:
        """The attributes in a grid (two, then three to a row as the page
        widens), in weight order; the hidden type marker stays outside it."""
        cells = []
        for attribute in self.attributes:
            cell = [attribute.key]
            if self.asks_directory(attribute):
                cell.append(
                    Include("clients/_autofill_listbox.html", listbox_id=AUTOFILL_INN_LISTBOX)
                )
            cells.append(Div(*cell, css_class="col"))
        return Layout(
            "rendered_for",
            Div(*cells, css_class="row row-cols-1 row-cols-md-2 row-cols-xl-3"),
        )

    def to_input(self) -> AttributeValues:
        """The values that converted, by attribute key."""
        return {
            attribute.key: self.cleaned_data[attribute.key]
            for attribute in self.attributes
            if attribute.key in self.cleaned_data
        }
