"""Client of the organization directory: DaData's party suggestions API.

The Add client page asks the directory for companies matching what the
operator types; the reseller configures the service (``Reseller.autofill_*``).
Calls are made from the server only, so the API key never reaches a browser.

**Where requests go.** ``Reseller.autofill_url`` is the service's base address:
``https://suggestions.dadata.ru`` for DaData itself, ``http://127.0.0.1:8001``
for the local stand-in (``manage.py directory_stub``). The client appends
DaData's path, ``/suggestions/api/4_1/rs/suggest/party`` or
``/suggestions/api/4_1/rs/findById/party``. A URL that already ends in the API
root (``…/suggestions/api/4_1/rs``, as DaData's documentation writes it) or in a
full endpoint (``…/suggest/party``) is accepted as well; any other path is kept
as a prefix, for a proxy such as ``https://proxy.example/dadata``.

**Which addresses.** Every call checks the URL again (``users.outbound``):
https, and a public address for every address the host resolves to, unless
``DIRECTORY_ALLOW_PRIVATE_NETWORKS`` is on (development). The connection then
goes to an address that this check returned: the name is not resolved a second
time, so an answer that changes in between (DNS rebinding) cannot steer the
request inside; the Host header, TLS server name and certificate check keep the
name. Environment proxies are not used (a proxy would resolve the name itself),
and redirects are not followed.

**When the service misbehaves.** The page must stay usable when the directory
is slow, down or answers garbage, so nothing here raises: a timeout, a
connection error, a non-2xx answer, invalid JSON or an unexpected shape is
logged as one warning on the ``clients.directory`` logger (naming the reseller
and the cause, never the key) and the caller gets ``[]``.

**How long.** ``DIRECTORY_TOTAL_TIMEOUT`` bounds a whole call: resolving the
name, connecting, a retry, the headers and the body. A per-read timeout alone
does not: a service that sends one byte every half second never lets a read
time out. At the deadline a watchdog shuts the connection's socket, whatever
the call is waiting for, and the answer is dropped as unavailable.
"""

from __future__ import annotations

import functools
import hashlib
import json
import logging
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

import requests
import urllib3
from django.conf import settings
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.db import models
from django.utils import translation
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from clients.directory_transport import _Call, _session
from clients.models import Client
from operations import metrics
from users.models import AutofillField
from users.outbound import outbound_target

if TYPE_CHECKING:
    from rules.models import ClientType
    from users.models import Reseller

logger = logging.getLogger("clients.directory")

API_ROOT = "/suggestions/api/4_1/rs"
Method = Literal["suggest", "findById"]

MAX_COUNT = 20  # DaData answers at most 20 suggestions.
MAX_QUERY_LENGTH = 300  # DaData ignores longer queries.
MAX_ANSWER_BYTES = 2 * 1024 * 1024  # 20 full party records are about 100 KB.


class PartyStatus(models.TextChoices):
    """``data.state.status``: anything but ACTIVE deserves a warning on the page."""

    ACTIVE = "ACTIVE", pgettext_lazy("organization status", "Active")
    LIQUIDATING = "LIQUIDATING", _("Liquidating")
    LIQUIDATED = "LIQUIDATED", _("Liquidated")
    BANKRUPT = "BANKRUPT", _("Bankrupt")
    REORGANIZING = "REORGANIZING", _("Reorganizing")


class PartyType(models.TextChoices):
    LEGAL = "LEGAL", _("Legal entity")
    INDIVIDUAL = "INDIVIDUAL", _("Sole trader")


class BranchType(models.TextChoices):
    MAIN = "MAIN", _("Head office")
    BRANCH = "BRANCH", _("Branch")


@dataclass(frozen=True, slots=True)
class PersonName:
    """A person's name in Russian order: surname, name, patronymic."""

    surname: str = ""
    name: str = ""
    patronymic: str = ""

    @classmethod
    def parse(cls, full_name: str) -> PersonName:
        """Split "Иванов Иван Иванович"; a longer patronymic ("Ахмед Оглы") stays whole."""
        parts = full_name.split()
        return cls(
            surname=(parts[0] if parts else "")[: _column("contract_last_name")],
            name=(parts[1] if len(parts) > 1 else "")[: _column("contract_first_name")],
            patronymic=" ".join(parts[2:])[: _column("contract_middle_name")],
        )

    def __bool__(self) -> bool:
        return bool(self.surname or self.name or self.patronymic)

    @property
    def full(self) -> str:
        return " ".join(part for part in (self.surname, self.name, self.patronymic) if part)


@dataclass(frozen=True, slots=True)
class PartySuggestion:
    """One company or sole trader from the directory; missing values are ""."""

    value: str
    unrestricted_value: str
    hid: str  # DaData's stable id of the record (a branch has its own)
    inn: str
    kpp: str
    ogrn: str
    short_name: str  # name.short_with_opf, e.g. ООО "РОМАШКА"
    full_name: str  # name.full_with_opf
    plain_name: str  # name.short, else name.full: without the legal form (РОМАШКА)
    management_name: str
    management_post: str
    status: str  # a PartyStatus value, or whatever else the service said
    party_type: str  # a PartyType value
    fio: PersonName | None  # sole traders only
    branch_type: str  # a BranchType value, "" for sole traders
    address: str  # address.value, the whole address in one line
    street_address: str  # street, house, block and office from address.data
    postal_code: str
    country_iso_code: str
    region_with_type: str
    city_with_type: str
    settlement_with_type: str

    @property
    def is_active(self) -> bool:
        return self.status == PartyStatus.ACTIVE

    @property
    def is_individual(self) -> bool:
        return self.party_type == PartyType.INDIVIDUAL

    @property
    def is_branch(self) -> bool:
        return self.branch_type == BranchType.BRANCH

    @property
    def status_label(self) -> str:
        """The status for people, in the active language."""
        if self.status in PartyStatus.values:
            return str(PartyStatus(self.status).label)
        return self.status

    @property
    def contract_person(self) -> PersonName:
        """Who signs: the sole trader, or the head of the company."""
        if self.is_individual:
            if self.fio:
                return self.fio
            return PersonName.parse(self.value.removeprefix("ИП "))
        return PersonName.parse(self.management_name)


# The keys a contract person expands to in suggestion_fields(), after the
# "<section>.<field>" convention of client_create's errors.
CONTRACT_LAST_NAME = f"{AutofillField.CONTRACT_PERSON}.last_name"
CONTRACT_FIRST_NAME = f"{AutofillField.CONTRACT_PERSON}.first_name"
CONTRACT_MIDDLE_NAME = f"{AutofillField.CONTRACT_PERSON}.middle_name"


def suggestion_fields(
    suggestion: PartySuggestion, *, allowed: Iterable[str], with_legal_form: bool = True
) -> dict[str, str]:
    """The values a chosen suggestion puts on the Add client page.

    Keyed by ``AutofillField`` values and limited to ``allowed`` (the
    reseller's ``autofill_fields``). Every allowed field is present: an empty
    string means the directory has nothing for it (a sole trader has no KPP),
    so the page clears what an earlier choice filled. The contract person
    expands to ``contract_person.last_name``, ``.first_name`` and
    ``.middle_name``.

    The company name is ``name.short_with_opf`` (ООО "РОМАШКА"), as the design
    says; ``with_legal_form=False`` gives the name alone (РОМАШКА) for an
    installation whose validation forbids legal-form abbreviations.
    """
    allowed = set(allowed)
    values = {
        AutofillField.COMPANY_NAME: (
            (suggestion.short_name or suggestion.value)
            if with_legal_form
            else (suggestion.plain_name or suggestion.short_name or suggestion.value)
        ),
        AutofillField.INN: suggestion.inn,
        AutofillField.KPP: suggestion.kpp,
        AutofillField.OGRN: suggestion.ogrn,
        AutofillField.COUNTRY: suggestion.country_iso_code,
        AutofillField.REGION: suggestion.region_with_type,
        AutofillField.CITY: suggestion.city_with_type or suggestion.settlement_with_type,
        AutofillField.POSTAL_CODE: suggestion.postal_code,
        # Region, city and postal code have fields of their own.
        AutofillField.ADDRESS: suggestion.street_address or suggestion.address,
    }
    fields = {str(key): value for key, value in values.items() if key in allowed}
    if AutofillField.CONTRACT_PERSON in allowed:
        person = suggestion.contract_person
        fields[CONTRACT_LAST_NAME] = person.surname
        fields[CONTRACT_FIRST_NAME] = person.name
        fields[CONTRACT_MIDDLE_NAME] = person.patronymic
    return fields


def directory_enabled(*, reseller: Reseller, client_type: ClientType | None) -> bool:
    """Whether the Add client page offers directory suggestions for this type."""
    return bool(
        reseller.autofill_enabled
        and reseller.autofill_url.strip()
        and client_type is not None
        and client_type.autofill
    )


@dataclass(frozen=True, slots=True)
class DirectoryAnswer:
    """What a lookup found, and whether the service answered at all: a page
    says "no matches" and "suggestions are unavailable" differently."""

    suggestions: list[PartySuggestion]
    available: bool = True


def directory_suggest(*, query: str, count: int = 10, reseller: Reseller) -> list[PartySuggestion]:
    """Companies and sole traders matching a name, INN or OGRN fragment.

    ``[]`` for an empty query, when the reseller's autofill is off, and
    whenever the service fails (logged); never raises.
    """
    return directory_suggest_answer(query=query, count=count, reseller=reseller).suggestions


def directory_suggest_answer(*, query: str, count: int = 10, reseller: Reseller) -> DirectoryAnswer:
    """``directory_suggest``, telling a failed service (``available=False``,
    logged) from one that found nothing; never raises."""
    query = " ".join(query.split())[:MAX_QUERY_LENGTH]
    if not query:
        return DirectoryAnswer([])
    count = min(max(int(count), 1), MAX_COUNT)
    return _lookup_answer(
        reseller=reseller, method="suggest", payload={"query": query, "count": count}
    )


def directory_find_by_id(
    *, inn_or_ogrn: str, kpp: str | None = None, reseller: Reseller
) -> list[PartySuggestion]:
    """The records of one INN or OGRN: the head office and its branches, or one of them by KPP.

    ``[]`` when nothing matches, the reseller's autofill is off or the service
    fails (logged); never raises.
    """
    number = "".join(inn_or_ogrn.split())
    if not number:
        return []
    payload: dict[str, Any] = {"query": number}
    if kpp and kpp.strip():
        payload["kpp"] = kpp.strip()
    return _lookup(reseller=reseller, method="findById", payload=payload)


def directory_endpoint(base_url: str, *, method: Method) -> str:
    """The full URL of a party method under the configured service address."""
    base = base_url.strip().rstrip("/")
    for known in ("suggest", "findById"):
        base = base.removesuffix(f"/{known}/party")
    if not base.endswith(API_ROOT):
        base += API_ROOT
    return f"{base}/{method}/party"


# Why a lookup gave nothing, for the failure counter (operations.metrics).
FAILURE_CAUSES = (
    "refused", "timeout", "connection", "status", "too_large", "invalid_json", "shape", "bug"
)  # fmt: skip


class DirectoryError(Exception):
    """Why a lookup gave nothing; the message goes to the log, never to a page."""

    def __init__(self, message: str, *, cause: str) -> None:
        super().__init__(message)
        self.cause = cause


def _lookup(
    *, reseller: Reseller, method: Method, payload: dict[str, Any]
) -> list[PartySuggestion]:
    return _lookup_answer(reseller=reseller, method=method, payload=payload).suggestions


def _lookup_answer(
    *, reseller: Reseller, method: Method, payload: dict[str, Any]
) -> DirectoryAnswer:
    if not reseller.autofill_enabled or not reseller.autofill_url.strip():
        return DirectoryAnswer([])
    url = directory_endpoint(reseller.autofill_url, method=method)
    key = _cache_key(url=url, api_key=reseller.autofill_api_key, payload=payload)
    try:
        items = cache.get(key)
    except Exception:  # a cache outage must not take the page down
        logger.warning("Directory cache read failed for reseller %s", _who(reseller))
        items = None
    if items is None:
        metrics.directory_called(method=method)
        try:
            items, skipped = _fetch(url=url, api_key=reseller.autofill_api_key, payload=payload)
        except DirectoryError as error:
            metrics.directory_failed(method=method, cause=error.cause)
            logger.warning(
                "Directory %s failed for reseller %s: %s",
                method,
                _who(reseller),
                _redact(str(error), reseller.autofill_api_key),
            )
            return DirectoryAnswer([], available=False)
        except Exception:  # a bug of ours: worth a traceback, still not worth a 500
            metrics.directory_failed(method=method, cause="bug")
            logger.exception("Directory %s broke for reseller %s", method, _who(reseller))
            return DirectoryAnswer([], available=False)
        if skipped:
            # Some records are usable, the rest are not: keep the usable ones, say so once.
            logger.warning(
                "Directory %s for reseller %s: skipped %d malformed suggestion(s) of %d from %s",
                method,
                _who(reseller),
                skipped,
                skipped + len(items),
                url,
            )
        try:
            cache.set(key, items, settings.DIRECTORY_CACHE_SECONDS)
        except Exception:
            logger.warning("Directory cache write failed for reseller %s", _who(reseller))
    return DirectoryAnswer([_parse_suggestion(item) for item in items])


def _fetch(*, url: str, api_key: str, payload: dict[str, Any]) -> tuple[list[dict[str, Any]], int]:
    """The answer's usable suggestion records, as JSON-ready dicts (which is what
    the cache keeps), and how many malformed ones were left out."""
    total = settings.DIRECTORY_TOTAL_TIMEOUT
    deadline = time.monotonic() + total
    connect = min(settings.DIRECTORY_CONNECT_TIMEOUT, total)
    read = min(settings.DIRECTORY_READ_TIMEOUT, total)
    try:
        target = outbound_target(url, timeout=deadline - time.monotonic())
    except ValidationError as error:
        with translation.override("en"):
            reason = " ".join(str(message) for message in error.messages)
        raise DirectoryError(f"refused {url}: {reason}", cause="refused") from None
    headers = {"Content-Type": "application/json", "Accept": "application/json"}
    if api_key:
        headers["Authorization"] = f"Token {api_key}"
    late = DirectoryError(
        f"timed out: no complete answer within {total} s from {url}", cause="timeout"
    )
    with _Call(target=target, deadline=deadline) as call:
        try:
            with _session().post(
                url,
                data=json.dumps(payload, ensure_ascii=False).encode(),
                headers=headers,
                timeout=(connect, read),
                # A redirect would turn the POST into a GET, and lead where no
                # check has looked; a wrong URL should show in the log.
                allow_redirects=False,
                stream=True,
            ) as response:
                if not 200 <= response.status_code < 300:
                    raise DirectoryError(f"HTTP {response.status_code} from {url}", cause="status")
                body = _read_body(response, call=call)
        except requests.RequestException as error:
            if call.expired:
                raise late from error
            if _is_timeout(error):
                raise DirectoryError(
                    f"timed out (connect {connect} s, read {read} s) at {url}: {_one_line(error)}",
                    cause="timeout",
                ) from error
            raise DirectoryError(
                f"{type(error).__name__} at {url}: {_one_line(error)}", cause="connection"
            ) from error
        if call.expired:
            # The watchdog may have cut a body that has no length: what came is not the answer.
            raise late
    try:
        answer = json.loads(body)
    except ValueError as error:  # also UnicodeDecodeError
        raise DirectoryError(
            f"invalid JSON from {url}: {_one_line(error)}", cause="invalid_json"
        ) from error
    return _suggestion_items(answer, url=url)


def _is_timeout(error: requests.RequestException) -> bool:
    # requests reports a read timeout as a ConnectionError once urllib3's retry
    # budget is spent, or when it strikes while the body is read.
    if isinstance(error, requests.Timeout):
        return True
    inner = error.args[0] if error.args else None
    reason = getattr(inner, "reason", inner)
    # urllib3 makes a refused connection a subclass of its connect timeout.
    if isinstance(reason, urllib3.exceptions.NewConnectionError):
        return False
    return isinstance(reason, urllib3.exceptions.TimeoutError)


def _read_body(response: requests.Response, *, call: _Call) -> bytes:
    chunks: list[bytes] = []
    size = 0
    for chunk in response.iter_content(chunk_size=64 * 1024):
        size += len(chunk)
        if size > MAX_ANSWER_BYTES:
            raise DirectoryError(
                f"answer larger than {MAX_ANSWER_BYTES} bytes from {response.url}",
                cause="too_large",
            )
        if call.expired or time.monotonic() >= call.deadline:
            call.expire()
            return b""
        chunks.append(chunk)
    return b"".join(chunks)


def _suggestion_items(answer: object, *, url: str) -> tuple[list[dict[str, Any]], int]:
    if not isinstance(answer, dict):
        raise DirectoryError(
            f"unexpected answer from {url}: a JSON {type(answer).__name__}", cause="shape"
        )
    suggestions = answer.get("suggestions")
    if not isinstance(suggestions, list):
        raise DirectoryError(f"unexpected answer from {url}: no list of suggestions", cause="shape")
    items = [item for item in suggestions if _is_record(item)]
    return items, len(suggestions) - len(items)


def _is_record(item: object) -> bool:
    return isinstance(item, dict) and isinstance(item.get("data"), dict)


# Every value taken from the directory is cut to the length of the column it
# fills on the Add client page, so that nothing longer reaches the page, its
# checks or the cache of parsed answers: one answer held a 60,000-character
# name, whose check of forbidden domains then took 45 s. Values only shown
# are as long as a client's name may be; codes that are compared, not stored,
# are short.
CODE_LENGTH = 100
# The longest valid INN (12 digits), KPP (9) and OGRN (15, an OGRNIP): a longer
# value is not that identifier at all, and is left out rather than cut.
IDENTIFIER_LENGTHS = {"inn": 12, "kpp": 9, "ogrn": 15}


@functools.cache
def _column(field: str) -> int:
    """The length of the ``Client`` column that a directory value fills."""
    return Client._meta.get_field(field).max_length


def _parse_suggestion(item: Mapping[str, Any]) -> PartySuggestion:
    data = _mapping(item.get("data"))
    name = _mapping(data.get("name"))
    management = _mapping(data.get("management"))
    state = _mapping(data.get("state"))
    address = _mapping(data.get("address"))
    place = _mapping(address.get("data"))
    fio = _mapping(data.get("fio"))
    person = PersonName(
        surname=_text(fio.get("surname"), _column("contract_last_name")),
        name=_text(fio.get("name"), _column("contract_first_name")),
        patronymic=_text(fio.get("patronymic"), _column("contract_middle_name")),
    )
    street_parts = [
        _text(place.get("street_with_type"), _column("address_line1")),
        _joined(place.get("house_type"), place.get("house")),
        _joined(place.get("block_type"), place.get("block")),
        _joined(place.get("flat_type"), place.get("flat")),
    ]
    company = _column("company_name")
    shown = _column("name")
    return PartySuggestion(
        value=_text(item.get("value"), company),
        unrestricted_value=_text(item.get("unrestricted_value"), shown),
        hid=_text(data.get("hid"), CODE_LENGTH),
        inn=_identifier(data.get("inn"), "inn"),
        kpp=_identifier(data.get("kpp"), "kpp"),
        ogrn=_identifier(data.get("ogrn"), "ogrn"),
        short_name=_text(name.get("short_with_opf"), company),
        full_name=_text(name.get("full_with_opf"), shown),
        plain_name=_text(name.get("short"), company) or _text(name.get("full"), company),
        management_name=_text(management.get("name"), shown),
        management_post=_text(management.get("post"), shown),
        status=_text(state.get("status"), CODE_LENGTH),
        party_type=_text(data.get("type"), CODE_LENGTH),
        fio=person or None,
        branch_type=_text(data.get("branch_type"), CODE_LENGTH),
        address=_text(address.get("value"), _column("address_line1")),
        street_address=", ".join(part for part in street_parts if part)[: _column("address_line1")],
        postal_code=_text(place.get("postal_code"), _column("postal_code")),
        country_iso_code=_text(place.get("country_iso_code"), _column("country")),
        region_with_type=_text(place.get("region_with_type"), _column("region")),
        city_with_type=_text(place.get("city_with_type"), _column("city")),
        settlement_with_type=_text(place.get("settlement_with_type"), _column("city")),
    )


def _mapping(value: object) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def _text(value: object, limit: int = CODE_LENGTH) -> str:
    if isinstance(value, str):
        return value.strip()[:limit].strip()
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)[:limit]
    return ""


def _identifier(value: object, kind: str) -> str:
    text = _text(value, IDENTIFIER_LENGTHS[kind] + 1)
    return text if len(text) <= IDENTIFIER_LENGTHS[kind] else ""


def _joined(kind: object, value: object) -> str:
    value = _text(value)
    return f"{_text(kind)} {value}".strip() if value else ""


def _cache_key(*, url: str, api_key: str, payload: Mapping[str, Any]) -> str:
    # The key is part of the hashed material so that a reseller with a revoked
    # key does not get answers that another reseller's valid key paid for.
    material = json.dumps([url, api_key, payload], ensure_ascii=False, sort_keys=True)
    return "directory:" + hashlib.sha256(material.encode()).hexdigest()


def _who(reseller: Reseller) -> str:
    return f"{reseller.name!r} (id {reseller.pk})"


def _one_line(error: BaseException) -> str:
    return " ".join(str(error).split())


def _redact(message: str, api_key: str) -> str:
    return message.replace(api_key, "***") if api_key else message
