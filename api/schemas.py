"""The shapes of the API's documents, for the OpenAPI document only: the
views build their answers from the selectors' dictionaries, and the
schemathesis tests check that every answer matches these."""

from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.utils import OpenApiExample, OpenApiParameter, OpenApiResponse
from rest_framework import serializers

from api.fields import API_FIELDS, max_length_of
from clients.models import ClientStatus, PostpayPermission, TermsStatus
from rules.models import AttributeValueType, PaymentModel
from users.models import ManagerRole


class ApiTokenScheme(OpenApiAuthenticationExtension):
    target_class = "api.authentication.ApiTokenAuthentication"
    name = "ApiToken"

    def get_security_definition(self, auto_schema):
        return {
            "type": "apiKey",
            "in": "header",
            "name": "X-Api-Token",
            "description": "A manager's API token (the panel's API tokens page, or "
            "manage.py api_token_create).",
        }


def _text(name: str, **kwargs) -> serializers.CharField:
    return serializers.CharField(
        max_length=max_length_of(name), allow_blank=True, required=False, **kwargs
    )


class CustomAttributeSerializer(serializers.Serializer):
    key = serializers.CharField(max_length=64)
    value = serializers.CharField(allow_blank=True)


class OwnerSerializer(serializers.Serializer):
    first_name = _text("owner.first_name")
    middle_name = _text("owner.middle_name")
    last_name = _text("owner.last_name")
    email = _text("owner.email")


class AccountCreateAttributesSerializer(serializers.Serializer):
    account_type_id = serializers.IntegerField(help_text="A client type of the reseller.")
    primary_name = _text("primary_name", help_text="The company name (types with one).")
    first_name = _text("first_name", help_text="The contract person's first name.")
    middle_name = _text("middle_name")
    last_name = _text("last_name")
    email = _text("email", help_text="The contract person's email.")
    owner_id = serializers.IntegerField(
        required=False, allow_null=True, help_text="An existing user to make the owner."
    )
    owner = OwnerSerializer(
        required=False,
        help_text="A new owner user; without it and owner_id, the contract person.",
    )
    service_rule_id = serializers.IntegerField(required=False, allow_null=True)
    manager_id = serializers.IntegerField(required=False, allow_null=True)
    manager_key = serializers.CharField(
        required=False, max_length=64, help_text="A storefront's manager key."
    )
    postpay_permission = serializers.ChoiceField(
        choices=PostpayPermission.values, required=False, allow_null=True
    )
    country = serializers.CharField(max_length=2, required=False)
    region = _text("region")
    city = _text("city")
    postal_code = _text("postal_code")
    address_line1 = _text("address_line1")
    address_line2 = _text("address_line2")
    phone = _text("phone")
    contact_email = _text("contact_email")
    terms_accepted = serializers.BooleanField(required=False)
    custom_attributes = CustomAttributeSerializer(many=True, required=False)


class AccountCreateDataSerializer(serializers.Serializer):
    type = serializers.ChoiceField(choices=["accounts"])
    attributes = AccountCreateAttributesSerializer()


class AccountCreateSerializer(serializers.Serializer):
    data = AccountCreateDataSerializer()


class AccountAttributesSerializer(serializers.Serializer):
    reseller_id = serializers.IntegerField()
    name = serializers.CharField()
    primary_name = serializers.CharField(allow_blank=True)
    account_type_id = serializers.IntegerField()
    status = serializers.ChoiceField(choices=ClientStatus.values)
    service_rule_id = serializers.IntegerField()
    manager_id = serializers.IntegerField(allow_null=True)
    postpay_permission = serializers.ChoiceField(choices=PostpayPermission.values)
    terms_status = serializers.ChoiceField(choices=TermsStatus.values)
    first_name = serializers.CharField()
    middle_name = serializers.CharField(allow_blank=True)
    last_name = serializers.CharField()
    email = serializers.CharField()
    country = serializers.CharField()
    region = serializers.CharField(allow_blank=True)
    city = serializers.CharField()
    postal_code = serializers.CharField(allow_blank=True)
    address_line1 = serializers.CharField()
    address_line2 = serializers.CharField(allow_blank=True)
    phone = serializers.CharField()
    contact_email = serializers.CharField()
    owner_id = serializers.IntegerField(allow_null=True)
    owner_email = serializers.CharField(allow_null=True)
    created_at = serializers.DateTimeField()
    custom_attributes = CustomAttributeSerializer(many=True)


class AccountLinksSerializer(serializers.Serializer):
    self = serializers.URLField()


class AccountSerializer(serializers.Serializer):
    id = serializers.CharField()
    type = serializers.ChoiceField(choices=["accounts"])
    attributes = AccountAttributesSerializer()
    links = AccountLinksSerializer()


class WarningSerializer(serializers.Serializer):
    code = serializers.CharField()
    detail = serializers.CharField()
    source = serializers.DictField(required=False)


class CreateMetaSerializer(serializers.Serializer):
    warnings = WarningSerializer(many=True)


class AccountDocumentSerializer(serializers.Serializer):
    data = AccountSerializer()
    meta = CreateMetaSerializer(required=False)


class ListLinksSerializer(serializers.Serializer):
    self = serializers.URLField()
    next = serializers.URLField(allow_null=True)


class PageMetaSerializer(serializers.Serializer):
    size = serializers.IntegerField()
    number = serializers.IntegerField(required=False)


class ListMetaSerializer(serializers.Serializer):
    page = PageMetaSerializer()


class AccountListSerializer(serializers.Serializer):
    data = AccountSerializer(many=True)
    links = ListLinksSerializer()
    meta = ListMetaSerializer()


class OptionSerializer(serializers.Serializer):
    key = serializers.CharField()
    name = serializers.CharField()


class AttributeDefinitionSerializer(serializers.Serializer):
    key = serializers.CharField()
    name = serializers.CharField()
    type = serializers.ChoiceField(choices=AttributeValueType.values)
    required = serializers.BooleanField()
    format = serializers.CharField(allow_null=True, help_text="A regular expression.")
    default_value = serializers.CharField(allow_null=True)
    available_values = OptionSerializer(many=True)
    weight = serializers.IntegerField()


class AccountTypeAttributesSerializer(serializers.Serializer):
    key = serializers.CharField()
    name = serializers.CharField()
    primary_name = serializers.CharField(
        allow_null=True, help_text="The company-name label; null: the type has no company name."
    )
    name_pattern = serializers.CharField()
    is_default = serializers.BooleanField()
    attributes = AttributeDefinitionSerializer(many=True)


class AccountTypeSerializer(serializers.Serializer):
    id = serializers.CharField()
    type = serializers.ChoiceField(choices=["account_types"])
    attributes = AccountTypeAttributesSerializer()


class AccountTypeListSerializer(serializers.Serializer):
    data = AccountTypeSerializer(many=True)


class ServiceRuleAttributesSerializer(serializers.Serializer):
    key = serializers.CharField()
    name = serializers.CharField()
    colour = serializers.CharField()
    default_payment_model = serializers.ChoiceField(choices=PaymentModel.values)
    is_default = serializers.BooleanField()


class ServiceRuleSerializer(serializers.Serializer):
    id = serializers.CharField()
    type = serializers.ChoiceField(choices=["service_rules"])
    attributes = ServiceRuleAttributesSerializer()


class ServiceRuleListSerializer(serializers.Serializer):
    data = ServiceRuleSerializer(many=True)


class ManagerAttributesSerializer(serializers.Serializer):
    key = serializers.CharField()
    first_name = serializers.CharField(allow_blank=True)
    middle_name = serializers.CharField(allow_blank=True)
    last_name = serializers.CharField(allow_blank=True)
    email = serializers.CharField()
    role = serializers.ChoiceField(choices=ManagerRole.values)


class ManagerSerializer(serializers.Serializer):
    id = serializers.CharField()
    type = serializers.ChoiceField(choices=["managers"])
    attributes = ManagerAttributesSerializer()


class ManagerListSerializer(serializers.Serializer):
    data = ManagerSerializer(many=True)


class ErrorSourceSerializer(serializers.Serializer):
    pointer = serializers.CharField(required=False)
    parameter = serializers.CharField(required=False)
    header = serializers.CharField(required=False)


class ErrorSerializer(serializers.Serializer):
    status = serializers.CharField()
    code = serializers.CharField()
    title = serializers.CharField()
    detail = serializers.CharField()
    source = ErrorSourceSerializer(required=False)
    meta = serializers.DictField(required=False)


class ErrorDocumentSerializer(serializers.Serializer):
    errors = ErrorSerializer(many=True)


def _error(description: str, code: str, detail: str, status: int, **source) -> OpenApiResponse:
    error = {"status": str(status), "code": code, "title": description, "detail": detail}
    if source:
        error["source"] = source
    return OpenApiResponse(
        response=ErrorDocumentSerializer,
        description=description,
        examples=[OpenApiExample(code, value={"errors": [error]}, response_only=True)],
    )


COMMON_ERRORS = {
    400: _error(
        "Bad request",
        "unknown_parameter",
        "page[size] is not a parameter of this request.",
        400,
        parameter="page[size]",
    ),
    401: _error(
        "Not authenticated",
        "invalid_token",
        "The API token is unknown, revoked or expired, or its manager is inactive.",
        401,
        header="X-Api-Token",
    ),
    404: _error("Not found", "not_found", "Nothing is found at this address.", 404),
    429: _error("Too many requests", "rate_limited", "Too many requests: try again in 12 s.", 429),
    503: _error(
        "Service unavailable",
        "service_unavailable",
        "The service is temporarily unavailable; try again in a few seconds.",
        503,
    ),
}
LIST_ERRORS = {
    **COMMON_ERRORS,
    400: _error(
        "Bad request",
        "page_number_too_deep",
        "page[number] goes up to 100; follow links.next (page[after]) to read further.",
        400,
        parameter="page[number]",
    ),
}

RESELLER_ID = OpenApiParameter(
    "reseller_id",
    int,
    OpenApiParameter.PATH,
    description="The token's manager's reseller or one downstream of it.",
)
ACCOUNT_ID = OpenApiParameter("account_id", int, OpenApiParameter.PATH)
IDEMPOTENCY_KEY = OpenApiParameter(
    "Idempotency-Key",
    str,
    OpenApiParameter.HEADER,
    description="A unique key per intended creation (e.g. a UUID): a retry with the same key "
    "and body replays the first answer; another body answers 422; a retry while the first "
    "runs answers 409. Kept at least 24 hours.",
)
LIST_PARAMETERS = [
    RESELLER_ID,
    OpenApiParameter("page[size]", int, description="Accounts per page: 1–500, default 50."),
    OpenApiParameter(
        "page[number]",
        int,
        description="Page number, 1–100 (for the platform's clients); deeper pages through "
        "page[after].",
    ),
    OpenApiParameter(
        "page[after]",
        str,
        description="The opaque cursor of links.next: the page after it, at the same cost at "
        "any depth.",
    ),
    OpenApiParameter(
        "filter[email]", str, description="The contract person's email; a comma-separated list."
    ),
    OpenApiParameter(
        "filter[user_email]", str, description="The email of one of the account's users."
    ),
    OpenApiParameter("filter[inn]", str, description="The INN attribute, exactly."),
    OpenApiParameter(
        "filter[created_at][gt]",
        str,
        description="Created after: RFC 3339 date-time, or YYYY-MM-DD (after that whole day, "
        "in the panel's time zone).",
    ),
    OpenApiParameter(
        "filter[created_at][lt]",
        str,
        description="Created before: RFC 3339 date-time, or YYYY-MM-DD (before that day).",
    ),
    OpenApiParameter(
        "filter[status]",
        str,
        description="Comma-separated statuses (active, credit_hold, administrative_hold, "
        "deleted); without it Deleted accounts are left out.",
    ),
]

__all__ = ["API_FIELDS"]

CREATE_ERRORS = {
    400: _error(
        "Bad request",
        "malformed_json",
        "The request body is not valid JSON: Expecting value: line 1 column 1 (char 0)",
        400,
        pointer="",
    ),
    401: COMMON_ERRORS[401],
    403: _error("Forbidden", "forbidden", "Your role may not create accounts.", 403),
    404: COMMON_ERRORS[404],
    409: _error(
        "Conflict",
        "idempotency_key_in_use",
        "A request with this Idempotency-Key is still running; retry in a moment.",
        409,
        header="Idempotency-Key",
    ),
    413: _error(
        "Request body too large",
        "body_too_large",
        "The request body is larger than 65536 bytes.",
        413,
    ),
    415: _error(
        "Unsupported media type",
        "unsupported_media_type",
        "Send the body as application/vnd.api+json.",
        415,
        header="Content-Type",
    ),
    422: _error(
        "Invalid data",
        "inn_checksum",
        "INN: the check digit is wrong (checksum failed).",
        422,
        pointer="/data/attributes/custom_attributes/0/value",
    ),
    429: COMMON_ERRORS[429],
    503: COMMON_ERRORS[503],
}

CREATE_EXAMPLES = [
    OpenApiExample(
        "A company with a new owner",
        request_only=True,
        value={
            "data": {
                "type": "accounts",
                "attributes": {
                    "account_type_id": 2,
                    "primary_name": "Северный ветер",
                    "first_name": "Анна",
                    "last_name": "Петрова",
                    "email": "anna@veter.example",
                    "owner": {
                        "first_name": "Анна",
                        "last_name": "Петрова",
                        "email": "owner@veter.example",
                    },
                    "country": "RU",
                    "city": "Москва",
                    "address_line1": "ул. Тверская, 1",
                    "phone": "+7 916 123-45-67",
                    "contact_email": "office@veter.example",
                    "manager_key": "anna",
                    "custom_attributes": [{"key": "inn", "value": "7707083893"}],
                },
            }
        },
    ),
    OpenApiExample(
        "A person whose contract person is the owner",
        request_only=True,
        value={
            "data": {
                "type": "accounts",
                "attributes": {
                    "account_type_id": 1,
                    "first_name": "Иван",
                    "last_name": "Иванов",
                    "email": "ivan@example.com",
                    "city": "Москва",
                    "address_line1": "ул. Ленина, 2",
                    "phone": "+79161234567",
                    "contact_email": "ivan@example.com",
                    "custom_attributes": [
                        {"key": "passport_series", "value": "4510"},
                        {"key": "passport_number", "value": "123456"},
                    ],
                },
            }
        },
    ),
]
