"""The sections of the Add client page, one form each.

Every section is a plain form with a prefix equal to its section (the name of
``client_create``'s argument) and a crispy helper without a form tag; the
template renders all of them inside one <form>. A form only turns what was
typed into Python values (types, choices among the options it offered, the
required marks the page shows) and builds its section's input
(``to_input``); whether the values are allowed is the service's decision.
"""

from crispy_forms.bootstrap import InlineRadios
from crispy_forms.helper import FormHelper
from crispy_forms.layout import HTML, Column, Div, Layout, LayoutObject, Row
from django import forms
from django.db.models import Q
from django.template.context import Context
from django.template.loader import get_template
from django.urls import reverse
from django.utils.safestring import SafeString
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from clients.autofill import AUTOFILL_COMPANY_LISTBOX, autofill_input_attrs
from clients.inputs import (
    Agreements,
    ClientInfo,
    Contacts,
    ContractPerson,
    ExistingOwner,
    NewOwner,
    Owner,
    column_length,
)
from clients.models import Client, PostpayPermission
from rules import selectors as rules_selectors
from rules.models import ClientType, ServiceRule
from users.models import Manager, Reseller, User
from users.selectors import manager_list_active
from users.validators import PHONE_INPUT_MAX_LENGTH

# The owner search's query is no column; a person's name or email fits.
OWNER_QUERY_MAX_LENGTH = 254


class Include:
    """A crispy layout object: a template rendered where it stands, with the
    page's context, the form and the given values (HTML lives in templates)."""

    def __init__(self, template_name: str, **values: object) -> None:
        self.template_name = template_name
        self.values = values

    def render(self, form: forms.Form, context: Context, **kwargs) -> SafeString:
        template = get_template(self.template_name).template
        with context.push(form=form, **self.values):
            return template.render(context)


def side_by_side(*items: str | LayoutObject) -> Row:
    """Fields next to each other from the md breakpoint up, one under the
    other below it; the page order stays the reading order (left, then
    right), so the keyboard meets them as the eye does."""
    return Row(*(Column(item) for item in items))


def parse_id(value: object) -> int | None:
    """A database ID typed as ASCII digits that fit a bigint, or None."""
    text = str(value or "").strip()
    if text.isascii() and text.isdigit() and len(text) < 19:
        return int(text)
    return None


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

    def to_input(self) -> object | None:
        """The section's input for ``client_create`` from the values that
        converted; None when the section cannot be read at all."""
        raise NotImplementedError

    def error_field(self, name: str) -> str | None:
        """The field that shows the service's error about ``name`` (None: the
        section's top)."""
        return name if name in self.fields else None

    def text(self, name: str) -> str:
        """A text field's converted value, "" when it did not convert."""
        return self.cleaned_data.get(name) or ""


class ClientInfoForm(SectionForm):
    section = "client_info"
    title = _("Client information")

    client_type = forms.ModelChoiceField(
        label=_("Client type"), queryset=ClientType.objects.none(), empty_label=None
    )
    company_name = forms.CharField(
        label=_("Company name"), max_length=column_length(Client, "company_name")
    )
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
        reseller: Reseller,
        client_types: list[ClientType],
        client_type: ClientType | None,
        autofill: bool = False,
        type_url: str = "",
        with_postpay: bool = True,
        current_manager: Manager | None = None,
        **kwargs,
    ) -> None:
        """``type_url`` answers a type switch (the Add client page's by
        default); the Edit client page has no postpay select (a decision is
        its own action) and keeps the client's ``current_manager`` among the
        choices even when that manager is no longer active."""
        self.autofill = autofill
        super().__init__(*args, **kwargs)
        # The querysets read a submitted id among the options offered; the
        # choices come from lists read once, so that rendering a select costs
        # no second query.
        type_field = self.fields["client_type"]
        type_field.queryset = rules_selectors.client_type_list(reseller=reseller)
        type_field.choices = [(item.pk, str(item)) for item in client_types]
        type_field.initial = client_type.pk if client_type else None
        type_field.widget.attrs.update(
            {
                # Swap the company-name field here and, out of band, the
                # Additional information section; the rest of the page stays.
                "hx-post": type_url or reverse("clients:create_type"),
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
        choices = [(item.pk, str(item)) for item in managers]
        if current_manager is not None and current_manager.pk not in {pk for pk, _ in choices}:
            managers = Manager.objects.filter(
                Q(pk__in=managers.values("pk")) | Q(pk=current_manager.pk)
            )
            choices.append(
                (current_manager.pk, f"{current_manager} ({current_manager.get_status_display()})")
            )
        self.fields["manager"].queryset = managers
        self.fields["manager"].choices = [("", "—"), *choices]
        rules = rules_selectors.service_rule_list(reseller=reseller)
        rule_list = list(rules)
        self.fields["service_rule"].queryset = rules
        self.fields["service_rule"].choices = [(item.pk, str(item)) for item in rule_list]
        self.fields["service_rule"].initial = next(
            (rule.pk for rule in rule_list if rule.is_default), None
        )
        if not (with_postpay and reseller.postpay_is_manual):
            del self.fields["postpay_permission"]
        # The rebuilt layout must see the fields as they are now.
        self.helper.layout = self.build_layout()

    def build_layout(self) -> Layout:
        company = ["company_name"] if "company_name" in self.fields else []
        if self.autofill_listbox_id:
            company.append(
                Include("clients/_autofill_listbox.html", listbox_id=self.autofill_listbox_id)
            )
        rest = [
            name
            for name in ("manager", "service_rule", "postpay_permission")
            if name in self.fields
        ]
        return Layout(
            "client_type",
            Include("clients/_create_apply_type.html"),
            Div(*company, css_id="company-name-slot"),
            *(side_by_side(*rest[index : index + 2]) for index in range(0, len(rest), 2)),
        )

    @property
    def autofill_listbox_id(self) -> str:
        """The company name's suggestion list, "" when autofill is off."""
        if not getattr(self, "autofill", False) or "company_name" not in self.fields:
            return ""
        return AUTOFILL_COMPANY_LISTBOX

    def to_input(self) -> ClientInfo | None:
        client_type = self.cleaned_data.get("client_type")
        service_rule = self.cleaned_data.get("service_rule")
        if client_type is None or service_rule is None:
            return None
        return ClientInfo(
            client_type=client_type,
            service_rule=service_rule,
            company_name=self.text("company_name"),
            manager=self.cleaned_data.get("manager"),
            postpay_permission=self.cleaned_data.get("postpay_permission")
            if "postpay_permission" in self.fields
            else None,
        )


class ContactsForm(SectionForm):
    section = "contacts"
    title = _("Contacts")

    country = forms.ChoiceField(label=_("Country"))
    region = forms.CharField(
        label=_("Region"), max_length=column_length(Client, "region"), required=False
    )
    city = forms.CharField(label=_("City"), max_length=column_length(Client, "city"))
    postal_code = forms.CharField(
        label=_("Postal code"), max_length=column_length(Client, "postal_code"), required=False
    )
    address_line1 = forms.CharField(
        label=_("Address"), max_length=column_length(Client, "address_line1")
    )
    address_line2 = forms.CharField(
        label=_("Address, line 2"),
        max_length=column_length(Client, "address_line2"),
        required=False,
    )
    phone = forms.CharField(
        label=_("Phone"),
        # As typed, with spaces and brackets: longer than the E.164 column.
        max_length=PHONE_INPUT_MAX_LENGTH,
        widget=forms.TextInput(attrs={"type": "tel", "autocomplete": "tel"}),
        help_text=_("With the country code, for example +7 916 123-45-67."),
    )
    email = forms.EmailField(label=_("Email"), max_length=column_length(Client, "email"))

    def __init__(self, *args, reseller: Reseller, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["country"].choices = reseller.country_choices()
        self.fields["country"].initial = reseller.default_country.code

    def build_layout(self) -> Layout:
        return Layout(
            side_by_side("country", "region"),
            side_by_side("city", "postal_code"),
            "address_line1",
            "address_line2",
            side_by_side("phone", "email"),
        )

    def to_input(self) -> Contacts:
        return Contacts(**{name: self.text(name) for name in self.fields})


class ContractPersonForm(SectionForm):
    section = "contract_person"
    title = _("Contract person")

    first_name = forms.CharField(
        label=_("First name"), max_length=column_length(Client, "contract_first_name")
    )
    last_name = forms.CharField(
        label=_("Last name"), max_length=column_length(Client, "contract_last_name")
    )
    middle_name = forms.CharField(
        label=_("Middle name"),
        max_length=column_length(Client, "contract_middle_name"),
        required=False,
    )
    email = forms.EmailField(label=_("Email"), max_length=column_length(Client, "contract_email"))

    def build_layout(self) -> Layout:
        return Layout(side_by_side("first_name", "last_name"), side_by_side("middle_name", "email"))

    def to_input(self) -> ContractPerson:
        return ContractPerson(**{name: self.text(name) for name in self.fields})


class OwnerMode:
    EXISTING = "existing"
    NEW = "new"


class OwnerForm(SectionForm):
    """Either an existing user, chosen by searching (the hidden ``user``; the
    ``pick`` radios are the search results, the way to choose without
    JavaScript), or a new user. The new user's fields are required only in
    that mode: the service says so."""

    section = "owner"
    title = pgettext_lazy("Add client section", "Owner")

    mode = forms.ChoiceField(
        label="",
        choices=[(OwnerMode.EXISTING, _("Select owner")), (OwnerMode.NEW, _("Create a new user"))],
        initial=OwnerMode.NEW,
        widget=forms.RadioSelect,
    )
    query = forms.CharField(
        label=_("Search by name or email"), max_length=OWNER_QUERY_MAX_LENGTH, required=False
    )
    user = forms.CharField(required=False, widget=forms.HiddenInput)
    pick = forms.CharField(required=False, widget=forms.HiddenInput)
    new_first_name = forms.CharField(
        label=_("First name"), max_length=column_length(User, "first_name"), required=False
    )
    new_last_name = forms.CharField(
        label=_("Last name"), max_length=column_length(User, "last_name"), required=False
    )
    new_middle_name = forms.CharField(
        label=_("Middle name"), max_length=column_length(User, "middle_name"), required=False
    )
    new_email = forms.EmailField(
        label=_("Email"), max_length=column_length(User, "email"), required=False
    )

    def __init__(self, *args, **kwargs) -> None:
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
        return Layout(
            InlineRadios("mode"),
            Div(
                "query",
                HTML('{% include "clients/_create_owner_search.html" %}'),
                "user",
                css_class="owner-panel",
                data_owner_panel=OwnerMode.EXISTING,
            ),
            Div(
                Include("clients/_create_copy_contract.html"),
                side_by_side("new_first_name", "new_last_name"),
                side_by_side("new_middle_name", "new_email"),
                css_class="owner-panel",
                data_owner_panel=OwnerMode.NEW,
            ),
        )

    def clean(self) -> dict:
        """An existing owner must be chosen, as an ID; whether the reseller
        reaches that user is the service's check."""
        cleaned = super().clean()
        if cleaned.get("mode") == OwnerMode.EXISTING:
            raw = (cleaned.get("pick") or cleaned.get("user") or "").strip()
            cleaned["user_id"] = parse_id(raw)
            if not raw:
                self.add_error("query", _("Search by name or email and choose the owner."))
            elif cleaned["user_id"] is None:
                self.add_error(
                    "query", forms.ModelChoiceField.default_error_messages["invalid_choice"]
                )
        return cleaned

    def error_field(self, name: str) -> str | None:
        # The chosen user is a hidden input: its errors show beside the search.
        return "query" if name == "user" else super().error_field(name)

    def to_input(self) -> Owner | None:
        mode = self.cleaned_data.get("mode")
        if mode == OwnerMode.EXISTING:
            user_id = self.cleaned_data.get("user_id")
            return ExistingOwner(user_id=user_id) if user_id is not None else None
        if mode == OwnerMode.NEW:
            return NewOwner(
                first_name=self.text("new_first_name"),
                middle_name=self.text("new_middle_name"),
                last_name=self.text("new_last_name"),
                email=self.text("new_email"),
            )
        return None


class AgreementsForm(SectionForm):
    section = "agreements"
    title = _("Agreements")

    accepted = forms.BooleanField(label=_("Accepted"), required=False, initial=True)

    def __init__(self, *args, terms_url: str, **kwargs) -> None:
        self.terms_url = terms_url
        super().__init__(*args, **kwargs)

    def build_layout(self) -> Layout:
        return Layout(
            Include("clients/_create_terms_link.html", terms_url=self.terms_url), "accepted"
        )

    def to_input(self) -> Agreements:
        return Agreements(accepted=bool(self.cleaned_data.get("accepted")))
