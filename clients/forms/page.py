"""The Add client page: its section forms built together, their values as
``client_create``'s inputs, and the service's errors put back beside the
fields they are about."""

import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from django import forms
from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.http import QueryDict
from django.template.loader import render_to_string
from django.utils.functional import cached_property

from clients.contract_copy import CONTRACT_PERSON_TO_NEW_OWNER
from clients.directory import directory_enabled
from clients.forms.attributes import AttributesForm
from clients.forms.sections import (
    AgreementsForm,
    ClientInfoForm,
    ContactsForm,
    ContractPersonForm,
    OwnerForm,
    OwnerMode,
    SectionForm,
    parse_id,
)
from clients.selectors import owner_search, user_list_reachable
from rules import selectors as rules_selectors
from rules.models import ClientType
from users.models import Manager, User

# The page's helper buttons: each re-renders the page with what was typed.
ACTION_APPLY_TYPE = "_apply_type"
ACTION_OWNER_SEARCH = "_owner_search"
ACTION_SELECT_USER = "owner-select_user"
ACTION_COPY_CONTRACT = "_copy_contract"
PAGE_ACTIONS = (ACTION_APPLY_TYPE, ACTION_OWNER_SEARCH, ACTION_SELECT_USER, ACTION_COPY_CONTRACT)


# Where each section sits on a wide screen (templates/clients/_section_grid.html;
# from about 1200 px, one column below that and in print): the client and
# its contacts on the left, the people beside them, the type's additional
# information across both below. The columns come in this order in the
# page, and the sections in page order within them, so that the keyboard
# and a screen reader meet them as the eye reads them. Add client and Edit
# client (without the owner) share it through ``SectionsPage.columns``.
GRID_START, GRID_END, GRID_FULL = "start", "end", "full"
SECTION_PLACES = {
    "client_info": GRID_START,
    "contacts": GRID_START,
    "contract_person": GRID_END,
    "owner": GRID_END,
    "agreements": GRID_END,
    "attributes": GRID_FULL,
}


@dataclass(frozen=True)
class SectionColumn:
    place: str
    forms: list


def section_columns(forms: Iterable) -> list[SectionColumn]:
    """The section forms (anything with a ``prefix``) by grid column, left,
    right, then the full-width row; a section not in ``SECTION_PLACES``
    takes the full width."""
    forms = list(forms)
    return [
        SectionColumn(place, column)
        for place in (GRID_START, GRID_END, GRID_FULL)
        if (
            column := [
                form for form in forms if SECTION_PLACES.get(form.prefix, GRID_FULL) == place
            ]
        )
    ]


def page_action(data: QueryDict) -> str | None:
    """The helper button that submitted the page, or None for "Create"."""
    return next((action for action in PAGE_ACTIONS if action in data), None)


def parse_token(value: str | None) -> uuid.UUID | None:
    try:
        return uuid.UUID(str(value))
    except ValueError:
        return None


def with_offer(error: ValidationError, *, field_id: str) -> ValidationError:
    """An error with a one-click fix, offered beside it: the transliteration
    of non-Latin contacts, "select this user" for a taken email (the
    buttons are in templates/clients/_create_error_offer.html)."""
    offered = []
    for item in error.error_list:
        params = item.params or {}
        if item.code == "not_latin" or (item.code == "email_taken" and params.get("user_id")):
            message = str(item.message % params if params else item.message)
            html = render_to_string(
                "clients/_create_error_offer.html",
                {"message": message, "code": item.code, "params": params, "field_id": field_id},
            )
            item = ValidationError(html, code=item.code)
        offered.append(item)
    return ValidationError(offered)


class SectionsPage:
    """A page of section forms posted as one (Add client, Edit client): the
    values of every section, and the service's errors put back beside them.
    A subclass sets ``page_errors`` and lists its forms in ``forms``."""

    page_errors: list[str]

    def _read_client_type(
        self, *, reseller, data: QueryDict | None, initial: Mapping, or_default: bool
    ) -> tuple[list[ClientType], list]:
        """The reseller's client types and the attributes of the one the page
        shows: the posted type, else the initial one, else (``or_default``)
        the default or first. Sets ``client_type`` and ``autofill``."""
        types = list(rules_selectors.client_type_list(reseller=reseller))
        by_pk = {str(client_type.pk): client_type for client_type in types}
        wanted = (
            data.get("client_info-client_type") if data is not None else None,
            initial.get("client_info", {}).get("client_type"),
        )
        chosen = next((by_pk[str(v)] for v in wanted if v is not None and str(v) in by_pk), None)
        if chosen is None and or_default:
            chosen = next((t for t in types if t.is_default), types[0] if types else None)
        self.client_type: ClientType | None = chosen
        self.autofill = directory_enabled(reseller=reseller, client_type=chosen)
        attributes = rules_selectors.attribute_list_for_create(client_type=chosen) if chosen else []
        return types, attributes

    @property
    def forms(self) -> list[SectionForm]:
        raise NotImplementedError

    @property
    def columns(self) -> list[SectionColumn]:
        """The forms in the wide-screen grid (templates/clients/_section_grid.html)."""
        return section_columns(self.forms)

    def is_valid(self) -> bool:
        """Whether every section's values converted (the service decides the rest)."""
        return all([form.is_valid() for form in self.forms]) and not self.page_errors

    def inputs(self) -> dict[str, object]:
        """The sections as the service's keyword arguments, from the values
        that converted (the service's dry run takes them as they are)."""
        return {form.section: form.to_input() for form in self.forms}

    @property
    def sections_with_errors(self) -> list[SectionForm]:
        return [form for form in self.forms if form.is_bound and form.errors]

    @property
    def has_errors(self) -> bool:
        return bool(self.page_errors or self.sections_with_errors)

    def add_service_errors(self, error: ValidationError | None) -> None:
        """Put the service's errors beside their fields. A key
        ``<section>.<field>`` names the form (its prefix is the section) and
        the field; a bare ``<section>`` goes to the top of that section, and
        anything else above the page. A field whose value did not convert
        keeps that error alone: the service's would only repeat it."""
        if error is None:
            return
        if hasattr(error, "error_dict"):
            error_dict = error.error_dict
        else:
            error_dict = {NON_FIELD_ERRORS: error.error_list}
        by_section = {form.prefix: form for form in self.forms}
        for key, errors in error_dict.items():
            section, _dot, name = key.partition(".")
            form = by_section.get(section)
            if form is None:
                self.page_errors.extend(message for item in errors for message in item)
                continue
            field = form.error_field(name) if name else None
            if field is not None and field in form.errors:
                continue
            field_id = form[field].auto_id if field else ""
            form.add_error(field, [with_offer(item, field_id=field_id) for item in errors])


class ClientCreatePage(SectionsPage):
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
        posted_token = parse_token(data.get("creation_token")) if data is not None else None
        # A posted page without its one-time token cannot be told from a
        # second submit: it is shown again with a fresh one.
        self.expired = data is not None and posted_token is None
        self.token = posted_token or token or uuid.uuid4()
        self.page_errors: list[str] = []
        self.owner_results: list[User] | None = None
        initial = initial or {}
        types, attributes = self._read_client_type(
            reseller=reseller, data=data, initial=initial, or_default=True
        )

        def build(form_class, **kwargs):
            return form_class(data, initial=initial.get(form_class.section), **kwargs)

        self.client_info = build(
            ClientInfoForm,
            reseller=reseller,
            client_types=types,
            client_type=self.client_type,
            autofill=self.autofill,
        )
        self.contacts = build(ContactsForm, reseller=reseller)
        self.contract_person = build(ContractPersonForm)
        self.owner = build(OwnerForm)
        self.agreements = (
            build(AgreementsForm, terms_url=reseller.terms_url) if reseller.terms_required else None
        )
        self.attributes = build(
            AttributesForm,
            attributes=attributes,
            client_type=self.client_type,
            autofill=self.autofill,
        )

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
            owner["mode"] = OwnerMode.NEW
            for source, target in CONTRACT_PERSON_TO_NEW_OWNER.items():
                owner[target] = contract.get(source, "")
        if owner.get("pick"):
            owner["user"], owner["pick"] = owner["pick"], ""
        page = cls(manager=manager, initial=initial, token=typed.token)
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
        user_id = parse_id(raw)
        if user_id is None:
            return None
        return user_list_reachable(reseller=self.reseller).filter(pk=user_id).first()


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
