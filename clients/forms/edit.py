"""The Edit client page: the sections of the Add client page but the owner,
filled from the client, and the version of the client they were read at."""

from django.http import QueryDict
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from clients.forms.attributes import AttributesForm
from clients.forms.page import SectionsPage, _typed_values
from clients.forms.sections import (
    AgreementsForm,
    ClientInfoForm,
    ContactsForm,
    ContractPersonForm,
    SectionForm,
    parse_id,
)
from clients.inputs import AttributeValues
from clients.models import Client, TermsStatus
from clients.selectors import client_attribute_values
from rules.models import AttributeValueType
from users.models import Manager
from users.validators import phone_for_display

ACTION_APPLY_TYPE = "_apply_type"


def client_initial(client: Client, values: dict[str, str]) -> dict[str, dict]:
    """The sections' initial values: the client as it is (passwords aside)."""
    return {
        "client_info": {
            "client_type": client.client_type_id,
            "company_name": client.company_name,
            "manager": client.manager_id or "",
            "service_rule": client.service_rule_id,
        },
        "contacts": {
            "country": client.country.code,
            "region": client.region,
            "city": client.city,
            "postal_code": client.postal_code,
            "address_line1": client.address_line1,
            "address_line2": client.address_line2,
            # As people write it; the service stores E.164 again.
            "phone": phone_for_display(client.phone),
            "email": client.email,
        },
        "contract_person": {
            "first_name": client.contract_first_name,
            "last_name": client.contract_last_name,
            "middle_name": client.contract_middle_name,
            "email": client.contract_email,
        },
        "agreements": {"accepted": False},
        "attributes": dict(values),
    }


KEEP_PASSWORD = _("Leave it empty to keep the stored one.")


class EditAttributesForm(AttributesForm):
    """Additional information on the Edit client page. A password field left
    empty keeps the stored password (it is never sent to the browser). On the
    client's own type an attribute without a value starts empty, not at its
    default, so that saving does not change it unasked."""

    def __init__(self, *args, stored: dict[str, str], blank_missing: bool, **kwargs) -> None:
        self.stored = stored
        super().__init__(*args, **kwargs)
        for attribute in self.attributes:
            field = self.fields[attribute.key]
            if attribute.value_type == AttributeValueType.PASSWORD and stored.get(attribute.key):
                field.required = False
                field.help_text = KEEP_PASSWORD
            if blank_missing and attribute.key not in stored:
                is_checkbox = attribute.value_type == AttributeValueType.CHECKBOX
                field.initial = False if is_checkbox else ""

    def to_input(self) -> AttributeValues:
        values = dict(super().to_input())
        for attribute in self.attributes:
            keep = attribute.value_type == AttributeValueType.PASSWORD and not values.get(
                attribute.key
            )
            if keep and attribute.key in self.stored:
                values[attribute.key] = self.stored[attribute.key]
        return values


class ClientEditPage(SectionsPage):
    """The Edit client page's section forms, built together as the Add client
    page's are (the chosen type shapes two of them), for one client of the
    manager's reach; the client's reseller decides the choices."""

    def __init__(
        self,
        *,
        manager: Manager,
        client: Client,
        data: QueryDict | None = None,
        initial: dict[str, dict] | None = None,
    ) -> None:
        self.manager = manager
        self.client = client
        self.reseller = reseller = client.reseller
        self.page_errors: list[str] = []
        stored = client_attribute_values(client=client)
        initial = initial if initial is not None else client_initial(client, stored)
        posted_version = parse_id(data.get("version")) if data is not None else None
        self.version = posted_version if posted_version is not None else client.version
        types, attributes = self._read_client_type(
            reseller=reseller, data=data, initial=initial, or_default=False
        )

        def build(form_class, **kwargs):
            return form_class(data, initial=initial.get(form_class.section), **kwargs)

        self.client_info = build(
            ClientInfoForm,
            reseller=reseller,
            client_types=types,
            client_type=self.client_type,
            autofill=self.autofill,
            type_url=reverse("clients:edit_type", args=[client.pk]),
            with_postpay=False,
            current_manager=client.manager,
        )
        self.contacts = build(ContactsForm, reseller=reseller)
        self.contract_person = build(ContractPersonForm)
        # The operator may still accept terms that wait for the owner; an
        # acceptance is final, so there is nothing to show once given.
        self.agreements = (
            build(AgreementsForm, terms_url=reseller.terms_url)
            if reseller.terms_required and client.terms_status != TermsStatus.ACCEPTED
            else None
        )
        self.attributes = build(
            EditAttributesForm,
            attributes=attributes,
            client_type=self.client_type,
            autofill=self.autofill,
            stored=stored,
            blank_missing=self.client_type is not None
            and self.client_type.pk == client.client_type_id,
        )

    @classmethod
    def refreshed(cls, *, manager: Manager, client: Client, data: QueryDict) -> "ClientEditPage":
        """The page again, unbound, with everything typed kept (passwords
        aside) and the chosen type applied; no errors are shown. Values of the
        attributes the new type shares carry over, the others start from the
        client's own (or the attribute's default)."""
        typed = cls(manager=manager, client=client, data=data)
        initial = {form.prefix: _typed_values(form, data) for form in typed.forms}
        stored = client_attribute_values(client=client)
        rendered_for = typed.attributes.data.get("attributes-rendered_for")
        if rendered_for != str(typed.client_type.pk if typed.client_type else ""):
            initial["attributes"] = {
                name: value
                for name, value in initial["attributes"].items()
                if f"attributes-{name}" in data
            }
            for name, value in stored.items():
                initial["attributes"].setdefault(name, value)
        initial["attributes"].pop("rendered_for", None)
        page = cls(manager=manager, client=client, initial=initial)
        page.version = typed.version
        return page

    @property
    def forms(self) -> list[SectionForm]:
        return [
            form
            for form in (
                self.client_info,
                self.contacts,
                self.contract_person,
                self.agreements,
                self.attributes,
            )
            if form is not None
        ]
