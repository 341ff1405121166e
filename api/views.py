"""The reseller API v3 (docs/api.md): accounts (the panel's clients), and
the client types, service rules and managers an integration needs to create
them. Every view reaches its reseller through the token's manager
(``reseller_get_reachable``): another reseller's ID answers 404."""

from urllib.parse import urlencode

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiExample, extend_schema
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from api import create, schemas, services
from api.jsonapi import ApiError
from api.parameters import (
    BIGINT_MAX,
    LIST_PARAMETERS,
    PAGE_NUMBER_MAX,
    PAGE_SIZE_DEFAULT,
    PAGE_SIZE_MAX,
    account_filters,
    integer_parameter,
    parameter_error,
    path_id,
    query_parameters,
)
from api.selectors import (
    BadCursor,
    account_get,
    account_list_page,
    account_type_list,
    manager_list,
    service_rule_list,
)
from clients import services as client_services
from users import roles
from users.models import Reseller
from users.selectors import reseller_get_reachable


def reseller_for(request: Request, reseller_id: str) -> Reseller:
    """The path's reseller, when the token's manager reaches it; 404 else."""
    number = path_id(reseller_id)
    reseller = (
        reseller_get_reachable(manager=request.auth.manager, reseller_id=number)
        if number is not None
        else None
    )
    if reseller is None:
        raise ApiError.one(404, "not_found", _("Nothing is found at this address."))
    return reseller


def account_url(request: Request, *, reseller_id: int, account_id: int | str) -> str:
    return request.build_absolute_uri(f"/api/v3/resellers/{reseller_id}/accounts/{account_id}")


def with_links(request: Request, resource: dict, *, reseller_id: int) -> dict:
    resource["links"] = {
        "self": account_url(request, reseller_id=reseller_id, account_id=resource["id"])
    }
    return resource


class AccountListView(APIView):
    """GET: the reseller's accounts, newest first, by page number or cursor,
    filtered. POST: create an account (see ``api.create``)."""

    @extend_schema(
        operation_id="accounts_list",
        summary="Get the list of the reseller's accounts",
        parameters=schemas.LIST_PARAMETERS,
        responses={200: schemas.AccountListSerializer, **schemas.LIST_ERRORS},
        examples=[
            OpenApiExample(
                "Find by INN",
                description="GET /api/v3/resellers/1/accounts?filter[inn]=7707083893",
                value={
                    "data": [
                        {
                            "id": "42",
                            "type": "accounts",
                            "attributes": {
                                "reseller_id": 1,
                                "name": "Северный ветер",
                                "primary_name": "Северный ветер",
                                "account_type_id": 2,
                                "status": "active",
                                "service_rule_id": 1,
                                "manager_id": None,
                                "postpay_permission": "not_verified",
                                "terms_status": "not_requested",
                                "first_name": "Анна",
                                "middle_name": "",
                                "last_name": "Петрова",
                                "email": "anna@veter.example",
                                "country": "RU",
                                "region": "",
                                "city": "Москва",
                                "postal_code": "",
                                "address_line1": "ул. Тверская, 1",
                                "address_line2": "",
                                "phone": "+79161234567",
                                "contact_email": "office@veter.example",
                                "owner_id": 17,
                                "owner_email": "anna@veter.example",
                                "created_at": "2026-11-30T12:00:00+00:00",
                                "custom_attributes": [{"key": "inn", "value": "7707083893"}],
                            },
                            "links": {
                                "self": "https://panel.example/api/v3/resellers/1/accounts/42"
                            },
                        }
                    ],
                    "links": {
                        "self": "https://panel.example/api/v3/resellers/1/accounts"
                        "?filter%5Binn%5D=7707083893",
                        "next": None,
                    },
                    "meta": {"page": {"size": 50}},
                },
                response_only=True,
            )
        ],
    )
    def get(self, request: Request, reseller_id: str) -> Response:
        reseller = reseller_for(request, reseller_id)
        values = query_parameters(request, LIST_PARAMETERS)
        size = integer_parameter(values, "page[size]", 1, PAGE_SIZE_MAX) or PAGE_SIZE_DEFAULT
        number = None
        if "page[number]" in values:
            number = integer_parameter(values, "page[number]", 1, BIGINT_MAX)
            if number > PAGE_NUMBER_MAX:
                raise ApiError(
                    [
                        parameter_error(
                            "page[number]",
                            "page_number_too_deep",
                            _(
                                "page[number] goes up to %(max)s; follow links.next "
                                "(page[after]) to read further."
                            )
                            % {"max": PAGE_NUMBER_MAX},
                        )
                    ]
                )
        after = values.get("page[after]", "")
        if number is not None and after:
            raise ApiError(
                [
                    parameter_error(
                        "page[after]",
                        "conflicting_parameters",
                        _("Give page[number] or page[after], not both."),
                    )
                ]
            )
        filters = account_filters(values)
        try:
            page = account_list_page(
                reseller=reseller, filters=filters, size=size, after=after, number=number
            )
        except BadCursor:
            raise ApiError(
                [
                    parameter_error(
                        "page[after]",
                        "invalid_cursor",
                        _(
                            "This cursor was not made by this list: take page[after] from "
                            "links.next as it is."
                        ),
                    )
                ]
            ) from None
        base = request.build_absolute_uri(request.path)
        next_link = None
        if page.next_cursor is not None:
            query = {
                name: value
                for name, value in values.items()
                if name not in {"page[number]", "page[after]"}
            }
            query["page[size]"] = str(size)
            query["page[after]"] = page.next_cursor
            next_link = f"{base}?{urlencode(query)}"
        meta_page = {"size": size}
        if number is not None:
            meta_page["number"] = number
        return Response(
            {
                "data": [
                    with_links(request, account, reseller_id=reseller.pk)
                    for account in page.accounts
                ],
                "links": {"self": request.build_absolute_uri(), "next": next_link},
                "meta": {"page": meta_page},
            }
        )

    @extend_schema(
        operation_id="accounts_create",
        summary="Create an account",
        parameters=[schemas.RESELLER_ID, schemas.IDEMPOTENCY_KEY],
        request=schemas.AccountCreateSerializer,
        responses={201: schemas.AccountDocumentSerializer, **schemas.CREATE_ERRORS},
        examples=schemas.CREATE_EXAMPLES,
    )
    def post(self, request: Request, reseller_id: str) -> Response:
        return account_create(request, reseller_id)


class AccountDetailView(APIView):
    """GET: one account of the reseller (any status)."""

    @extend_schema(
        operation_id="accounts_read",
        summary="Get an account",
        parameters=[schemas.RESELLER_ID, schemas.ACCOUNT_ID],
        responses={200: schemas.AccountDocumentSerializer, **schemas.COMMON_ERRORS},
    )
    def get(self, request: Request, reseller_id: str, account_id: str) -> Response:
        reseller = reseller_for(request, reseller_id)
        number = path_id(account_id)
        account = account_get(reseller=reseller, account_id=number) if number else None
        if account is None:
            raise ApiError.one(404, "not_found", _("Nothing is found at this address."))
        return Response({"data": with_links(request, account, reseller_id=reseller.pk)})


class AccountTypeListView(APIView):
    """GET: the reseller's client types with the attributes each takes."""

    @extend_schema(
        operation_id="account_types_list",
        summary="Get the account types with their attributes",
        parameters=[schemas.RESELLER_ID],
        responses={200: schemas.AccountTypeListSerializer, **schemas.COMMON_ERRORS},
        examples=[
            OpenApiExample(
                "A company type",
                value={
                    "data": [
                        {
                            "id": "2",
                            "type": "account_types",
                            "attributes": {
                                "key": "company",
                                "name": "Юридическое лицо",
                                "primary_name": "Наименование компании",
                                "name_pattern": "%primary_name",
                                "is_default": False,
                                "attributes": [
                                    {
                                        "key": "inn",
                                        "name": "ИНН",
                                        "type": "string",
                                        "required": True,
                                        "format": None,
                                        "default_value": None,
                                        "available_values": [],
                                        "weight": 10,
                                    }
                                ],
                            },
                        }
                    ]
                },
                response_only=True,
            )
        ],
    )
    def get(self, request: Request, reseller_id: str) -> Response:
        reseller = reseller_for(request, reseller_id)
        query_parameters(request, frozenset())
        return Response({"data": account_type_list(reseller=reseller)})


class ServiceRuleListView(APIView):
    """GET: the reseller's service rules."""

    @extend_schema(
        operation_id="service_rules_list",
        summary="Get the service rules",
        parameters=[schemas.RESELLER_ID],
        responses={200: schemas.ServiceRuleListSerializer, **schemas.COMMON_ERRORS},
        examples=[
            OpenApiExample(
                "Rules",
                value={
                    "data": [
                        {
                            "id": "1",
                            "type": "service_rules",
                            "attributes": {
                                "key": "standard",
                                "name": "Стандарт",
                                "colour": "#1E88E5",
                                "default_payment_model": "prepay",
                                "is_default": True,
                            },
                        }
                    ]
                },
                response_only=True,
            )
        ],
    )
    def get(self, request: Request, reseller_id: str) -> Response:
        reseller = reseller_for(request, reseller_id)
        query_parameters(request, frozenset())
        return Response({"data": service_rule_list(reseller=reseller)})


class ManagerListView(APIView):
    """GET: the reseller's Active managers with their keys."""

    @extend_schema(
        operation_id="managers_list",
        summary="Get the active managers",
        parameters=[schemas.RESELLER_ID],
        responses={200: schemas.ManagerListSerializer, **schemas.COMMON_ERRORS},
        examples=[
            OpenApiExample(
                "Managers",
                value={
                    "data": [
                        {
                            "id": "3",
                            "type": "managers",
                            "attributes": {
                                "key": "ivanova",
                                "first_name": "Мария",
                                "middle_name": "",
                                "last_name": "Иванова",
                                "email": "maria@oblako.example",
                                "role": "sales",
                            },
                        }
                    ]
                },
                response_only=True,
            )
        ],
    )
    def get(self, request: Request, reseller_id: str) -> Response:
        reseller = reseller_for(request, reseller_id)
        query_parameters(request, frozenset())
        return Response({"data": manager_list(reseller=reseller)})


# --- POST accounts -------------------------------------------------------------

IDEMPOTENCY_KEY_MAX_LENGTH = 255


def _idempotency_key(request: Request) -> str | None:
    key = request.headers.get("Idempotency-Key")
    if key is None:
        return None
    if not 0 < len(key) <= IDEMPOTENCY_KEY_MAX_LENGTH or not key.isascii() or not key.isprintable():
        raise ApiError.one(
            400,
            "invalid_idempotency_key",
            _("Idempotency-Key must be 1 to %(max)s printable ASCII characters (a UUID is best).")
            % {"max": IDEMPOTENCY_KEY_MAX_LENGTH},
            header="Idempotency-Key",
        )
    return key


def _replay(row) -> Response:
    response = Response(row.response_body, status=row.response_status)
    if row.response_location:
        response["Location"] = row.response_location
    response["Idempotent-Replayed"] = "true"
    return response


def account_create(request: Request, reseller_id: str) -> Response:
    """Create an account of the path's reseller through ``client_create``;
    201 with the account and its Location. With an Idempotency-Key, the first
    answer is kept and replayed (see api.services.idempotency_begin)."""
    reseller = reseller_for(request, reseller_id)
    if not request.user.has_perm(roles.perm(roles.CREATE_CLIENT)):
        raise ApiError.one(403, "forbidden", _("Your role may not create accounts."))
    query_parameters(request, frozenset())
    body = request.data
    parsed = create.read_body(body)
    key = _idempotency_key(request)
    manager = request.auth.manager
    row = None
    if key is not None:
        try:
            begun = services.idempotency_begin(
                manager=manager,
                key=key,
                fingerprint=create.fingerprint(reseller_id=reseller.pk, body=body),
            )
        except services.IdempotencyMismatch:
            raise ApiError.one(
                422,
                "idempotency_key_reused",
                _("This Idempotency-Key was used with another request; use a new key."),
                header="Idempotency-Key",
            ) from None
        except services.IdempotencyConflict:
            raise ApiError.one(
                409,
                "idempotency_key_in_use",
                _("A request with this Idempotency-Key is still running; retry in a moment."),
                header="Idempotency-Key",
            ) from None
        if begun.replay:
            return _replay(begun.row)
        row = begun.row
    try:
        prepared = create.resolve(
            parsed,
            reseller=reseller,
            actor=manager,
            may_decide_postpay=create.may_decide_postpay(request.user),
        )
        # One transaction: the client, its answer stored under the key, and
        # the key's lock while both are made, commit together or not at all.
        with transaction.atomic():
            if row is not None:
                services.idempotency_hold(row=row)
            try:
                client = client_services.client_create(
                    **prepared.arguments,
                    creation_token=row.creation_token if row is not None else None,
                    origin={"via": "api", "token": request.auth.name},
                )
            except client_services.DuplicateSubmission as duplicate:
                client = duplicate.client
            except ValidationError as error:
                raise create.service_errors(
                    error,
                    positions=parsed.positions,
                    owner_is_contract_person=parsed.owner is None
                    and "owner_id" not in parsed.values,
                ) from None
            account = with_links(
                request,
                account_get(reseller=reseller, account_id=client.pk),
                reseller_id=reseller.pk,
            )
            document = {"data": account, "meta": {"warnings": prepared.warnings}}
            location = account["links"]["self"]
            if row is not None:
                services.idempotency_complete(row=row, status=201, body=document, location=location)
    except BaseException:
        if row is not None:
            services.idempotency_release(row=row)
        raise
    response = Response(document, status=201)
    response["Location"] = location
    return response
