"""Autofill from the organization directory on the Add client page: what the
suggestion endpoint was asked, which inputs a chosen organization fills, and
the attributes of the fields that ask (clients/directory.py talks to the
directory itself)."""

import json
from collections.abc import Iterable
from dataclasses import dataclass

from django.http import QueryDict
from django.urls import reverse

from clients.directory import (
    CONTRACT_FIRST_NAME,
    CONTRACT_LAST_NAME,
    CONTRACT_MIDDLE_NAME,
    PartySuggestion,
    suggestion_fields,
)
from rules import selectors as rules_selectors
from rules import validation
from rules.models import AccountValidationSettings, ClientType
from users.models import AutofillField, Reseller

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
    form and the page says why on submit (the service decides; this only
    chooses a spelling).
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
