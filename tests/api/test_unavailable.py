"""The API without its database (PostgreSQL restarting, a failover, every
pooled connection busy): a JSON:API 503 with Retry-After, never Django's
HTML page or a 500."""

from tests.api.conftest import ApiClient, codes
from tests.outage import database_out_of_reach


def test_the_api_without_its_database_answers_a_json_api_503(django_db_blocker, settings):
    settings.DEBUG = False
    with database_out_of_reach(django_db_blocker):
        api = ApiClient("opk_" + "x" * 43, language="ru")
        api.http.raise_request_exception = False
        listing = api.get("/api/v3/resellers/1/accounts")
        created = api.post("/api/v3/resellers/1/accounts", {"data": {"type": "accounts"}})
    for response in (listing, created):
        assert response.status_code == 503
        assert response["Retry-After"] == "5"
        assert response["Content-Type"] == "application/vnd.api+json"
        assert codes(response) == ["service_unavailable"]
        error = response.json()["errors"][0]
        assert error["title"] == "Сервис недоступен"
        assert "Traceback" not in response.content.decode()
