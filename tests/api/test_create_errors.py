"""POST accounts refused before the service is asked: the media type, the
JSON, the document's shape, unknown attributes and wrong JSON types, the
role; all as JSON:API errors in the request's language, never a 500."""

import pytest

from clients.models import Client
from tests.api.conftest import ApiClient, codes, pointers, token_for
from tests.conftest import make_manager
from users.models import ManagerRole

pytestmark = pytest.mark.django_db


@pytest.fixture
def url(root_reseller, root_rules) -> str:
    return f"/api/v3/resellers/{root_reseller.pk}/accounts"


def document(**attributes) -> dict:
    return {"data": {"type": "accounts", "attributes": attributes}}


def test_wrong_media_type_is_415(irina_api, url):
    response = irina_api.post(url, "a=b", content_type="application/x-www-form-urlencoded")
    assert response.status_code == 415
    assert codes(response) == ["unsupported_media_type"]
    assert response["Content-Type"] == "application/vnd.api+json"
    assert not Client.objects.exists()


@pytest.mark.parametrize(
    "raw",
    [b"{", b"", b"[1, 2", b'{"data": NaN}', b"\xff\xfe", b"[" * 100_000 + b"]" * 100_000],
)
def test_malformed_json_is_400(irina_api, url, settings, raw):
    settings.API_MAX_BODY_BYTES = 1_000_000
    response = irina_api.post(url, raw)
    assert response.status_code in {400, 413}
    assert response.json()["errors"][0]["code"] in {"malformed_json", "invalid_document"}
    assert not Client.objects.exists()


def test_an_over_long_body_is_413(irina_api, url, settings):
    settings.API_MAX_BODY_BYTES = 1000
    response = irina_api.post(url, document(primary_name="x" * 2000))
    assert response.status_code == 413 and codes(response) == ["body_too_large"]


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        ([], 400, "invalid_document"),
        ({"data": []}, 400, "invalid_document"),
        ({"data": {"type": "users", "attributes": {}}}, 409, "wrong_type"),
        ({"data": {"type": "accounts", "id": "5", "attributes": {}}}, 403, "client_generated_id"),
        ({"data": {"type": "accounts", "attributes": []}}, 400, "invalid_document"),
    ],
)
def test_not_an_accounts_document(irina_api, url, body, status, code):
    response = irina_api.post(url, body)
    assert response.status_code == status
    assert code in codes(response)


def test_unknown_attributes_and_wrong_types_all_at_once(irina_api, url):
    response = irina_api.post(
        url,
        document(
            account_type_id="1",
            nickname="x",
            primary_name=5,
            terms_accepted="yes",
            owner={"email": 1, "age": 3},
            custom_attributes=[{"key": "inn", "value": 7707083893}, "x"],
            postpay_permission="maybe",
        ),
    )
    assert response.status_code == 422
    assert pointers(response) == {
        "/data/attributes/account_type_id": "invalid_type",
        "/data/attributes/nickname": "unknown_attribute",
        "/data/attributes/primary_name": "invalid_type",
        "/data/attributes/terms_accepted": "invalid_type",
        "/data/attributes/owner/email": "invalid_type",
        "/data/attributes/owner/age": "unknown_attribute",
        "/data/attributes/custom_attributes/0/value": "invalid_type",
        "/data/attributes/custom_attributes/1": "invalid_type",
        "/data/attributes/postpay_permission": "invalid_choice",
    }
    assert not Client.objects.exists()


def test_details_in_the_requests_language(irina, url):
    english = ApiClient(token_for(irina), language="en").post(url, document(nickname="x"))
    russian = ApiClient(token_for(irina, "ru"), language="ru").post(url, document(nickname="x"))
    assert english.json()["errors"][0]["code"] == russian.json()["errors"][0]["code"]
    assert "is not an attribute" in english.json()["errors"][0]["detail"]
    assert "не является" in russian.json()["errors"][0]["detail"]
    assert russian.json()["errors"][0]["title"] != english.json()["errors"][0]["title"]


def test_a_marketing_token_cannot_create(root_reseller, url):
    marketing = make_manager(reseller=root_reseller, role=ManagerRole.MARKETING)
    response = ApiClient(token_for(marketing)).post(url, document(account_type_id=1))
    assert response.status_code == 403 and codes(response) == ["forbidden"]
    assert not Client.objects.exists()


@pytest.mark.parametrize("key", ["", "ключ", "a" * 256, "tab\there"])
def test_a_malformed_idempotency_key_is_400(irina_api, url, key):
    response = irina_api.post(url, document(), HTTP_IDEMPOTENCY_KEY=key)
    assert response.status_code == 400
    assert codes(response) == ["invalid_idempotency_key"]
