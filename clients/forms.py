"""The Add client page: one form per section, and the page that holds them.

Every section is a plain form with a prefix equal to its section and a crispy
helper without a form tag; the template renders all six inside one <form>.
The forms check what a person typed, with the same pure checks the service
runs again (``rules.validation``); the service decides.
"""

import json
import uuid
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass

from crispy_forms.helper import FormHelper
from crispy_forms.layout import HTML, Div, Layout
from django import forms
from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.http import QueryDict
from django.urls import reverse
from django.utils.functional import cached_property
from django.utils.html import format_html
from django.utils.translation import gettext, pgettext_lazy
from django.utils.translation import gettext_lazy as _

from clients.directory import (
    CONTRACT_FIRST_NAME,
    CONTRACT_LAST_NAME,
    CONTRACT_MIDDLE_NAME,
    PartySuggestion,
    directory_enabled,
    suggestion_fields,
)
from clients.models import PostpayPermission
from clients.services import LATIN_CONTACT_FIELDS, NewOwner, new_owner_email_problem
from rules import selectors as rules_selectors
from rules import validation
from rules.models import (
    AccountValidationSettings,
    Attribute,
    AttributeValueType,
    ClientType,
    ServiceRule,
)
from users.models import AutofillField, Manager, Reseller, User
from users.selectors import manager_list_active, owner_search, user_list_reachable
from users.validators import phone_to_e164, validate_email_local_part_ascii


def with_offer(error: ValidationError, *, field_id: str) -> ValidationError:
    """Turn an error that has a one-click fix into one that offers it: a
    transliteration for non-Latin contacts, "select this user" for a taken
    email. The button works without JavaScript where it can (it submits the
    page) and is enhanced by static/js/client_create.js."""
    offered = []
    for item in error.error_list:
        params = item.params or {}
        message = str(item.message % params if params else item.message)
        if item.code == "not_latin":
            button = format_html(
                '<button type="button" class="btn btn-sm btn-outline-primary ms-1 '
                'js-use-transliteration" data-target="{}" data-value="{}">{}</button>',
                field_id,
                params["suggestion"],
                gettext("Use it"),
            )
        elif item.code == "email_taken" and params.get("user_id"):
            button = format_html(
                '<button type="submit" name="owner-select_user" value="{}" '
                'class="btn btn-sm btn-outline-primary ms-1 js-select-owner" '
                'data-user-id="{}" data-user-label="{}">{}</button>',
                params["user_id"],
                params["user_id"],
                params["user"],
                gettext("Select this user"),
            )
        else:
            offered.append(item)
            continue
        offered.append(ValidationError(format_html("{} {}", message, button), code=item.code))
    return ValidationError(offered)


# Autofill from the organization directory ---------------------------------------

AUTOFILL_MIN_QUERY = 3  # DaData itself answers nothing useful to fewer characters
AUTOFILL_MAX_QUERY = 300
AUTOFILL_COUNT = 10
AUTOFILL_COMPANY_LISTBOX = "autofill-company-results"
AUTOFILL_INN_LISTBOX = "autofill-inn-results"
# The attributes a directory record fills, by key; the INN one also asks.
AUTOFILL_ATTRIBUTES = (AutofillField.INN, AutofillField.KPP, AutofillField.OGRN)

# Where each value of ``suggestion_fields`` goes on the page: the input's name.
AUTOFILL_INPUTS: dict[str, str] = {
    AutofillField.COMPANY_NAME: "client_info-company_name",
    AutofillField.INN: "attributes-inn",
    AutofillField.KPP: "attributes-kpp",
    AutofillField.OGRN: "attributes-ogrn",
    AutofillField.COUNTRY: "contacts-country",
    AutofillField.REGION: "contacts-region",
    AutofillField.CITY: "contacts-city",
    AutofillField.POSTAL_CODE: "contacts-postal_code",
    AutofillField.ADDRESS: "contacts-address_line1",
    CONTRACT_LAST_NAME: "contract_person-last_name",
    CONTRACT_FIRST_NAME: "contract_person-first_name",
    CONTRACT_MIDDLE_NAME: "contract_person-middle_name",
}


def autofill_input_attrs(listbox_id: str) -> dict[str, str]:
    """A field that asks the directory as the operator types: a combobox over
    the listbox that htmx fills (static/js/client_autofill.js adds the keys)."""
    return {
        "role": "combobox",
        "autocomplete": "off",
        "aria-autocomplete": "list",
        "aria-expanded": "false",
        "aria-controls": listbox_id,
        "data-autofill-listbox": listbox_id,
        "hx-get": reverse("clients:autofill_suggest"),
        "hx-trigger": "input changed delay:300ms",
        "hx-target": f"#{listbox_id}",
        "hx-include": "#id_client_info-client_type",
        "hx-sync": "this:replace",
    }


def autofill_listbox(listbox_id: str) -> str:
    """The empty list the suggestions arrive in (hidden while empty)."""
    return format_html(
        '<ul id="{}" class="list-group autofill-results mb-3" role="listbox" aria-label="{}"></ul>',
        listbox_id,
        gettext("Organizations from the directory"),
    )


def autofill_allowed_fields(reseller: Reseller) -> list[str]:
    """The reseller's ticked ``autofill_fields``, ignoring anything that is not one."""
    fields = reseller.autofill_fields
    if not isinstance(fields, list):
        return []
    return [field for field in fields if field in AutofillField.values]


def autofill_name_with_legal_form(
    suggestion: PartySuggestion, *, settings: AccountValidationSettings
) -> bool:
    """Whether a chosen company's name is filled with its legal form.

    The design fills ``name.short_with_opf`` (ООО "СЕВЕРНЫЙ ВЕТЕР"). But the
    installation's company-name rules may forbid legal-form abbreviations (the
    demo forbids ООО, ИП and others): filling such a name would end every
    autofill in an error the operator must fix by hand. So the name keeps its
    legal form unless the rules reject it, and reject the plain name
    (СЕВЕРНЫЙ ВЕТЕР, ``with_legal_form=False``) for fewer reasons. The
    decision is per record: АО "ТИХАЯ ГАВАНЬ" keeps "АО" where only ООО is
    forbidden. A name that is rejected either way is filled with its legal
    form and the page says why on submit.
    """
    with_form = suggestion_fields(
        suggestion, allowed=[AutofillField.COMPANY_NAME], with_legal_form=True
    )[AutofillField.COMPANY_NAME]
    problems = validation.company_name_problems(with_form, settings=settings)
    if not problems:
        return True
    plain = suggestion_fields(
        suggestion, allowed=[AutofillField.COMPANY_NAME], with_legal_form=False
    )[AutofillField.COMPANY_NAME]
    return len(validation.company_name_problems(plain, settings=settings)) >= len(problems)


@dataclass(frozen=True, slots=True)
class AutofillOption:
    """One suggestion as the page shows it, with the values choosing it fills."""

    suggestion: PartySuggestion
    values: dict[str, str]  # input name -> value

    @property
    def values_json(self) -> str:
        return json.dumps(self.values, ensure_ascii=False)


def autofill_values(
    suggestion: PartySuggestion,
    *,
    reseller: Reseller,
    settings: AccountValidationSettings,
    client_type: ClientType,
    attribute_keys: Iterable[str],
    country_codes: Iterable[str],
) -> dict[str, str]:
    """The inputs a chosen suggestion fills, by name: exactly the fields the
    reseller ticked, that the page has for this type. An empty value clears
    what an earlier choice filled; a country the reseller does not serve is
    left as it is."""
    fields = suggestion_fields(
        suggestion,
        allowed=autofill_allowed_fields(reseller),
        with_legal_form=autofill_name_with_legal_form(suggestion, settings=settings),
    )
    attribute_keys = set(attribute_keys)
    country_codes = set(country_codes)
    values = {}
    for key, value in fields.items():
        if key == AutofillField.COMPANY_NAME and not client_type.has_company_name:
            continue
        if key in AUTOFILL_ATTRIBUTES and key not in attribute_keys:
            continue
        if key == AutofillField.COUNTRY and value not in country_codes:
            continue
        values[AUTOFILL_INPUTS[key]] = value
    return values


# The fields that ask the directory, by input name, and the list each fills.
AUTOFILL_SOURCES = (
    ("client_info-company_name", AUTOFILL_COMPANY_LISTBOX),
    ("attributes-inn", AUTOFILL_INN_LISTBOX),
    ("q", AUTOFILL_COMPANY_LISTBOX),
)


@dataclass(frozen=True, slots=True)
class AutofillRequest:
    """What the suggestion endpoint was asked, made safe: no NUL bytes,
    whitespace collapsed, bounded length, the client type among the reseller's."""

    query: str
    listbox: str
    client_type: ClientType | None

    @classmethod
    def parse(cls, data: QueryDict, *, reseller: Reseller) -> "AutofillRequest":
        raw, listbox = "", AUTOFILL_COMPANY_LISTBOX
        for name, target in AUTOFILL_SOURCES:
            if name in data:
                raw, listbox = data.get(name, ""), target
                break
        query = " ".join(raw[: AUTOFILL_MAX_QUERY * 2].replace("\x00", "").split())
        type_id = data.get("client_info-client_type", "")
        client_type = None
        if type_id.isascii() and type_id.isdigit() and len(type_id) < 19:
            client_type = (
                rules_selectors.client_type_list(reseller=reseller).filter(pk=type_id).first()
            )
        return cls(query=query[:AUTOFILL_MAX_QUERY], listbox=listbox, client_type=client_type)


class SectionForm(forms.Form):
    """A section of the Add client page."""

    section: str = ""
    title = ""

    def __init__(self, *args, **kwargs) -> None:
        kwargs.setdefault("prefix", self.section)
        super().__init__(*args, **kwargs)
        self.helper = FormHelper(self)
        self.helper.form_tag = False
        self.helper.disable_csrf = True
        self.helper.layout = self.build_layout()

    def build_layout(self) -> Layout:
        return Layout(*self.fields)


class ClientInfoForm(SectionForm):
    section = "client_info"
    title = _("Client information")

    client_type = forms.ModelChoiceField(
        label=_("Client type"), queryset=ClientType.objects.none(), empty_label=None
    )
    company_name = forms.CharField(label=_("Company name"), max_length=255)
    manager = forms.ModelChoiceField(
        label=_("Manager"), queryset=Manager.objects.none(), required=False, empty_label="—"
    )
    service_rule = forms.ModelChoiceField(
        label=_("Service rule"), queryset=ServiceRule.objects.none(), empty_label=None
    )
    postpay_permission = forms.ChoiceField(
        label=_("Postpay permission"),
        choices=PostpayPermission.choices,
        initial=PostpayPermission.APPROVED,
    )

    def __init__(
        self,
        *args,
        reseller,
        client_types: list[ClientType],
        client_type: ClientType | None,
        settings: AccountValidationSettings,
        autofill: bool = False,
        **kwargs,
    ) -> None:
        self.settings = settings
        self.autofill = autofill
        super().__init__(*args, **kwargs)
        # The querysets check a submitted id; the choices come from lists read
        # once, so that rendering a select costs no second query.
        type_field = self.fields["client_type"]
        type_field.queryset = rules_selectors.client_type_list(reseller=reseller)
        type_field.choices = [(item.pk, str(item)) for item in client_types]
        type_field.initial = client_type.pk if client_type else None
        type_field.widget.attrs.update(
            {
                # Swap the company-name field here and, out of band, the
                # Additional information section; the rest of the page stays.
                "hx-post": reverse("clients:create_type"),
                "hx-trigger": "change",
                "hx-target": "#company-name-slot",
                "hx-swap": "outerHTML",
            }
        )
        if client_type is not None and client_type.has_company_name:
            self.fields["company_name"].label = client_type.primary_name
            if autofill:
                self.fields["company_name"].widget.attrs.update(
                    autofill_input_attrs(AUTOFILL_COMPANY_LISTBOX)
                )
        else:
            del self.fields["company_name"]
        managers = manager_list_active(reseller=reseller)
        self.fields["manager"].queryset = managers
        self.fields["manager"].choices = [("", "—"), *((item.pk, str(item)) for item in managers)]
        rules = rules_selectors.service_rule_list(reseller=reseller)
        rule_list = list(rules)
        self.fields["service_rule"].queryset = rules
        self.fields["service_rule"].choices = [(item.pk, str(item)) for item in rule_list]
        self.fields["service_rule"].initial = next(
            (rule.pk for rule in rule_list if rule.is_default), None
        )
        if not reseller.postpay_is_manual:
            del self.fields["postpay_permission"]
        # The rebuilt layout must see the fields as they are now.
        self.helper.layout = self.build_layout()

    def build_layout(self) -> Layout:
        apply_button = format_html(
            '<noscript><button type="submit" name="_apply_type" value="1" '
            'class="btn btn-sm btn-outline-secondary mb-3">{}</button></noscript>',
            gettext("Apply the client type"),
        )
        company = ["company_name"] if "company_name" in self.fields else []
        if company and getattr(self, "autofill", False):
            company.append(HTML(self.autofill_listbox))
        rest = [
            name
            for name in ("manager", "service_rule", "postpay_permission")
            if name in self.fields
        ]
        return Layout(
            "client_type",
            HTML(apply_button),
            Div(*company, css_id="company-name-slot"),
            *rest,
        )

    @property
    def autofill_listbox(self) -> str:
        """The company name's suggestion list, "" when autofill is off."""
        if not self.autofill or "company_name" not in self.fields:
            return ""
        return autofill_listbox(AUTOFILL_COMPANY_LISTBOX)

    def clean_company_name(self) -> str:
        value = self.cleaned_data["company_name"].strip()
        problems = validation.company_name_problems(value, settings=self.settings)
        if problems:
            raise ValidationError(problems)
        return value


class ContactsForm(SectionForm):
    section = "contacts"
    title = _("Contacts")

    country = forms.ChoiceField(label=_("Country"))
    region = forms.CharField(label=_("Region"), max_length=150, required=False)
    city = forms.CharField(label=_("City"), max_length=150)
    postal_code = forms.CharField(label=_("Postal code"), max_length=20, required=False)
    address_line1 = forms.CharField(label=_("Address"), max_length=255)
    address_line2 = forms.CharField(label=_("Address, line 2"), max_length=255, required=False)
    phone = forms.CharField(
        label=_("Phone"),
        max_length=32,
        widget=forms.TextInput(attrs={"type": "tel", "autocomplete": "tel"}),
        help_text=_("With the country code, for example +7 916 123-45-67."),
    )
    email = forms.EmailField(label=_("Email"))

    def __init__(self, *args, reseller, settings: AccountValidationSettings, **kwargs) -> None:
        self.reseller = reseller
        self.settings = settings
        super().__init__(*args, **kwargs)
        self.fields["country"].choices = reseller.country_choices()
        self.fields["country"].initial = reseller.default_country.code

    def clean_region(self) -> str:
        value = self.cleaned_data["region"]
        if value:
            validation.validate_region(value, settings=self.settings)
        return value

    def clean(self) -> dict:
        cleaned = super().clean()
        if self.reseller.latin_contacts:
            for name in LATIN_CONTACT_FIELDS:
                value = cleaned.get(name)
                if value:
                    try:
                        validation.validate_latin(value)
                    except ValidationError as error:
                        self.add_error(name, with_offer(error, field_id=self[name].auto_id))
        phone = cleaned.get("phone")
        if phone:
            try:
                cleaned["phone"] = phone_to_e164(phone, region=cleaned.get("country"))
            except ValidationError as error:
                self.add_error("phone", error)
        return cleaned


class ContractPersonForm(SectionForm):
    section = "contract_person"
    title = _("Contract person")

    first_name = forms.CharField(label=_("First name"), max_length=150)
    last_name = forms.CharField(label=_("Last name"), max_length=150)
    middle_name = forms.CharField(label=_("Middle name"), max_length=150, required=False)
    email = forms.EmailField(label=_("Email"))


class OwnerMode:
    EXISTING = "existing"
    NEW = "new"


class OwnerForm(SectionForm):
    """Either an existing user, chosen by searching (the hidden ``user``; the
    ``pick`` radios are the search results, the way to choose without
    JavaScript), or a new user."""

    section = "owner"
    title = pgettext_lazy("Add client section", "Owner")

    mode = forms.ChoiceField(
        label="",
        choices=[(OwnerMode.EXISTING, _("Select owner")), (OwnerMode.NEW, _("Create a new user"))],
        initial=OwnerMode.NEW,
        widget=forms.RadioSelect,
    )
    query = forms.CharField(label=_("Search by name or email"), required=False)
    user = forms.CharField(required=False, widget=forms.HiddenInput)
    pick = forms.CharField(required=False, widget=forms.HiddenInput)
    new_first_name = forms.CharField(label=_("First name"), max_length=150, required=False)
    new_last_name = forms.CharField(label=_("Last name"), max_length=150, required=False)
    new_middle_name = forms.CharField(label=_("Middle name"), max_length=150, required=False)
    new_email = forms.EmailField(
        label=_("Email"), required=False, validators=[validate_email_local_part_ascii]
    )

    def __init__(self, *args, actor: Manager, **kwargs) -> None:
        self.actor = actor
        super().__init__(*args, **kwargs)
        self.fields["query"].widget.attrs.update(
            {
                "role": "combobox",
                "autocomplete": "off",
                "aria-autocomplete": "list",
                "aria-expanded": "false",
                "aria-controls": "owner-results",
                "hx-get": reverse("clients:owner_search"),
                "hx-trigger": "input changed delay:250ms, search",
                "hx-target": "#owner-results",
                "hx-sync": "this:replace",
            }
        )

    def build_layout(self) -> Layout:
        copy_button = format_html(
            '<button type="submit" name="_copy_contract" value="1" '
            'class="btn btn-sm btn-outline-secondary mb-3 js-copy-contract">{}</button>',
            gettext("Use the contract person's data"),
        )
        return Layout(
            "mode",
            Div(
                "query",
                HTML('{% include "clients/_create_owner_search.html" %}'),
                "user",
                css_class="owner-panel",
                data_owner_panel=OwnerMode.EXISTING,
            ),
            Div(
                HTML(copy_button),
                "new_first_name",
                "new_last_name",
                "new_middle_name",
                "new_email",
                css_class="owner-panel",
                data_owner_panel=OwnerMode.NEW,
            ),
        )

    def clean(self) -> dict:
        cleaned = super().clean()
        if cleaned.get("mode") == OwnerMode.EXISTING:
            raw = (cleaned.get("pick") or cleaned.get("user") or "").strip()
            owner = None
            if raw.isascii() and raw.isdigit():
                owner = user_list_reachable(reseller=self.actor.reseller).filter(pk=raw).first()
            if owner is None:
                message = (
                    _("Select a user of your reseller's clients.")
                    if raw
                    else _("Search by name or email and choose the owner.")
                )
                self.add_error("query", message)
            cleaned["owner"] = owner
        elif cleaned.get("mode") == OwnerMode.NEW:
            for name in ("new_first_name", "new_last_name", "new_email"):
                if not cleaned.get(name) and name not in self.errors:
                    self.add_error(name, _("This field is required."))
            email = cleaned.get("new_email")
            if email:
                problem = new_owner_email_problem(actor=self.actor, email=email)
                if problem is not None:
                    self.add_error(
                        "new_email", with_offer(problem, field_id=self["new_email"].auto_id)
                    )
        return cleaned

    def service_arguments(self) -> dict:
        if self.cleaned_data["mode"] == OwnerMode.EXISTING:
            return {"owner": self.cleaned_data["owner"], "new_owner": None}
        return {
            "owner": None,
            "new_owner": NewOwner(
                first_name=self.cleaned_data["new_first_name"],
                middle_name=self.cleaned_data["new_middle_name"],
                last_name=self.cleaned_data["new_last_name"],
                email=self.cleaned_data["new_email"],
            ),
        }


class AgreementsForm(SectionForm):
    section = "agreements"
    title = _("Agreements")

    accepted = forms.BooleanField(label=_("Accepted"), required=False, initial=True)

    def __init__(self, *args, terms_url: str, **kwargs) -> None:
        self.terms_url = terms_url
        super().__init__(*args, **kwargs)

    def build_layout(self) -> Layout:
        return Layout(
            HTML(
                format_html(
                    '<p class="mb-2"><a href="{}" target="_blank" rel="noopener">{}</a></p>',
                    self.terms_url,
                    gettext("Agreement with the general terms"),
                )
            ),
            "accepted",
        )


# Attribute fields: one factory per value type --------------------------------------


def _string_field(attribute: Attribute, **options) -> forms.Field:
    return forms.CharField(**options)


def _text_field(attribute: Attribute, **options) -> forms.Field:
    return forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), **options)


def _checkbox_field(attribute: Attribute, **options) -> forms.Field:
    return forms.BooleanField(**options)


def _date_field(attribute: Attribute, **options) -> forms.Field:
    return forms.DateField(
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"), **options
    )


def _password_field(attribute: Attribute, **options) -> forms.Field:
    # Never sent back to the browser: an operator retypes it after an error.
    return forms.CharField(widget=forms.PasswordInput(render_value=False), strip=False, **options)


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
    """The chosen type's attributes, lightest first; field names are the keys."""

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
        items = []
        for name in self.fields:
            items.append(name)
            attribute = next((item for item in self.attributes if item.key == name), None)
            if attribute is not None and self.asks_directory(attribute):
                items.append(HTML(autofill_listbox(AUTOFILL_INN_LISTBOX)))
        return Layout(*items)

    def clean(self) -> dict:
        cleaned = super().clean()
        for attribute in self.attributes:
            if attribute.key in cleaned:
                try:
                    validation.clean_attribute_value(attribute, cleaned[attribute.key])
                except ValidationError as error:
                    self.add_error(attribute.key, error)
        return cleaned

    def values(self) -> dict[str, object]:
        return {
            attribute.key: self.cleaned_data.get(attribute.key) for attribute in self.attributes
        }


# The page ------------------------------------------------------------------------------

# Where each service argument lives on the page: (section, field).
SERVICE_FIELDS: dict[str, tuple[str, str | None]] = {
    "client_type": ("client_info", "client_type"),
    "company_name": ("client_info", "company_name"),
    "manager": ("client_info", "manager"),
    "service_rule": ("client_info", "service_rule"),
    "postpay_permission": ("client_info", "postpay_permission"),
    "country": ("contacts", "country"),
    "region": ("contacts", "region"),
    "city": ("contacts", "city"),
    "postal_code": ("contacts", "postal_code"),
    "address_line1": ("contacts", "address_line1"),
    "address_line2": ("contacts", "address_line2"),
    "phone": ("contacts", "phone"),
    "email": ("contacts", "email"),
    "contract_first_name": ("contract_person", "first_name"),
    "contract_middle_name": ("contract_person", "middle_name"),
    "contract_last_name": ("contract_person", "last_name"),
    "contract_email": ("contract_person", "email"),
    "owner": ("owner", "query"),
    "new_owner.first_name": ("owner", "new_first_name"),
    "new_owner.middle_name": ("owner", "new_middle_name"),
    "new_owner.last_name": ("owner", "new_last_name"),
    "new_owner.email": ("owner", "new_email"),
    "terms_accepted": ("agreements", "accepted"),
    "attributes": ("attributes", None),
}

# The page's helper buttons: each re-renders the page with what was typed.
ACTION_APPLY_TYPE = "_apply_type"
ACTION_OWNER_SEARCH = "_owner_search"
ACTION_SELECT_USER = "owner-select_user"
ACTION_COPY_CONTRACT = "_copy_contract"
PAGE_ACTIONS = (ACTION_APPLY_TYPE, ACTION_OWNER_SEARCH, ACTION_SELECT_USER, ACTION_COPY_CONTRACT)


def page_action(data: QueryDict) -> str | None:
    """The helper button that submitted the page, or None for "Create"."""
    return next((action for action in PAGE_ACTIONS if action in data), None)


def parse_token(value: str | None) -> uuid.UUID | None:
    try:
        return uuid.UUID(str(value))
    except ValueError:
        return None


class ClientCreatePage:
    """The six section forms of the Add client page, built together because
    the chosen client type shapes two of them."""

    def __init__(
        self,
        *,
        manager: Manager,
        data: QueryDict | None = None,
        initial: Mapping[str, dict] | None = None,
        token: uuid.UUID | None = None,
    ) -> None:
        self.manager = manager
        self.reseller = reseller = manager.reseller
        self.token = token or uuid.uuid4()
        self.page_errors: list[str] = []
        self.owner_results: list[User] | None = None
        initial = initial or {}
        settings = rules_selectors.account_validation_settings()
        types = list(rules_selectors.client_type_list(reseller=reseller))
        self.client_type = self._choose_type(
            types,
            data.get("client_info-client_type") if data is not None else None,
            initial.get("client_info", {}).get("client_type"),
        )
        attributes = (
            rules_selectors.attribute_list_for_create(client_type=self.client_type)
            if self.client_type
            else []
        )
        self.autofill = directory_enabled(reseller=reseller, client_type=self.client_type)

        def build(form_class, **kwargs):
            return form_class(data, initial=initial.get(form_class.section), **kwargs)

        self.client_info = build(
            ClientInfoForm,
            reseller=reseller,
            client_types=types,
            client_type=self.client_type,
            settings=settings,
            autofill=self.autofill,
        )
        self.contacts = build(ContactsForm, reseller=reseller, settings=settings)
        self.contract_person = build(ContractPersonForm)
        self.owner = build(OwnerForm, actor=manager)
        self.agreements = (
            build(AgreementsForm, terms_url=reseller.terms_url) if reseller.terms_required else None
        )
        self.attributes = build(
            AttributesForm,
            attributes=attributes,
            client_type=self.client_type,
            autofill=self.autofill,
        )

    @staticmethod
    def _choose_type(types: list[ClientType], *wanted) -> ClientType | None:
        by_pk = {str(client_type.pk): client_type for client_type in types}
        for value in wanted:
            if value is not None and str(value) in by_pk:
                return by_pk[str(value)]
        return next((t for t in types if t.is_default), types[0] if types else None)

    @classmethod
    def refreshed(
        cls, *, manager: Manager, data: QueryDict, action: str | None = None
    ) -> "ClientCreatePage":
        """The page again, unbound, with everything typed kept (passwords aside)
        and the helper button's effect applied; no errors are shown."""
        typed = cls(manager=manager, data=data)
        initial = {form.prefix: _typed_values(form, data) for form in typed.forms}
        if typed.attributes.data.get("attributes-rendered_for") != str(
            typed.client_type.pk if typed.client_type else ""
        ):
            # A type switch: keep only the values the new type's fields received.
            initial["attributes"] = {
                name: value
                for name, value in initial["attributes"].items()
                if f"attributes-{name}" in data
            }
        initial["attributes"].pop("rendered_for", None)
        owner = initial["owner"]
        if action == ACTION_SELECT_USER:
            owner.update(mode=OwnerMode.EXISTING, user=data.get(ACTION_SELECT_USER, ""), pick="")
        elif action == ACTION_COPY_CONTRACT:
            contract = initial["contract_person"]
            owner.update(
                mode=OwnerMode.NEW,
                new_first_name=contract.get("first_name", ""),
                new_last_name=contract.get("last_name", ""),
                new_middle_name=contract.get("middle_name", ""),
                new_email=contract.get("email", ""),
            )
        if owner.get("pick"):
            owner["user"], owner["pick"] = owner["pick"], ""
        page = cls(
            manager=manager,
            initial=initial,
            token=parse_token(data.get("creation_token")),
        )
        if action == ACTION_OWNER_SEARCH:
            page.owner_results = owner_search(
                reseller=manager.reseller, query=owner.get("query") or ""
            )
        return page

    @property
    def forms(self) -> list[SectionForm]:
        return [
            form
            for form in (
                self.client_info,
                self.contacts,
                self.contract_person,
                self.owner,
                self.agreements,
                self.attributes,
            )
            if form is not None
        ]

    @cached_property
    def selected_owner(self) -> User | None:
        """The existing user chosen as the owner, shown beside the search."""
        form = self.owner
        if form.is_bound:
            raw = form["pick"].value() or form["user"].value()
        else:
            raw = form.initial.get("user")
        raw = str(raw or "")
        if not (raw.isascii() and raw.isdigit()):
            return None
        return user_list_reachable(reseller=self.reseller).filter(pk=raw).first()

    def is_valid(self) -> bool:
        return all([form.is_valid() for form in self.forms]) and not self.page_errors

    @property
    def sections_with_errors(self) -> list[SectionForm]:
        return [form for form in self.forms if form.is_bound and form.errors]

    @property
    def has_errors(self) -> bool:
        return bool(self.page_errors or self.sections_with_errors)

    def service_arguments(self) -> dict:
        """The cleaned page as the keyword arguments of ``client_create``."""
        info = self.client_info.cleaned_data
        contacts = self.contacts.cleaned_data
        contract = self.contract_person.cleaned_data
        return {
            "client_type": info["client_type"],
            "company_name": info.get("company_name", ""),
            "manager": info.get("manager"),
            "service_rule": info["service_rule"],
            "postpay_permission": info.get("postpay_permission"),
            "country": contacts["country"],
            "region": contacts["region"],
            "city": contacts["city"],
            "postal_code": contacts["postal_code"],
            "address_line1": contacts["address_line1"],
            "address_line2": contacts["address_line2"],
            "phone": contacts["phone"],
            "email": contacts["email"],
            "contract_first_name": contract["first_name"],
            "contract_middle_name": contract["middle_name"],
            "contract_last_name": contract["last_name"],
            "contract_email": contract["email"],
            **self.owner.service_arguments(),
            "terms_accepted": bool(self.agreements and self.agreements.cleaned_data["accepted"]),
            "attributes": self.attributes.values(),
            "creation_token": self.token,
        }

    def add_service_errors(self, error: ValidationError) -> None:
        """Put the service's errors beside the fields they are about."""
        if hasattr(error, "error_dict"):
            error_dict = error.error_dict
        else:
            error_dict = {NON_FIELD_ERRORS: error.error_list}
        by_section = {form.prefix: form for form in self.forms}
        for key, errors in error_dict.items():
            if key.startswith("attributes."):
                section, field = "attributes", key.removeprefix("attributes.")
            else:
                section, field = SERVICE_FIELDS.get(key, (None, None))
            form = by_section.get(section)
            if form is None:
                self.page_errors.extend(message for item in errors for message in item)
                continue
            if field not in form.fields:
                field = None
            field_id = form[field].auto_id if field else ""
            form.add_error(field, [with_offer(item, field_id=field_id) for item in errors])


def _typed_values(form: forms.Form, data: QueryDict) -> dict:
    """What the person typed into a form's fields, passwords left out."""
    values = {}
    for name, field in form.fields.items():
        widget = field.widget
        if isinstance(widget, forms.PasswordInput):
            continue
        if widget.value_omitted_from_data(data, {}, form.add_prefix(name)):
            continue
        values[name] = form[name].data
    return values
