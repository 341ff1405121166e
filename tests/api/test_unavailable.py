"""The API without its database (PostgreSQL restarting, a failover, every
pooled connection busy): a JSON:API 503 with Retry-After, never Django's
HTML page or a 500."""

from django.db import connections

from tests.api.conftest import ApiClient, codes
from tests.notifications.test_smtp_worker import free_port


def test_the_api_without_its_database_answers_a_json_api_503(django_db_blocker, settings):
    settings.DEBUG = False
    with django_db_blocker.unblock():
        connection = connections["default"]
        saved = dict(connection.settings_dict)
        connection.close()
        if connection.vendor == "postgresql":
            connection.settings_dict.update(HOST="127.0.0.1", PORT=str(free_port()))
        else:
            connection.settings_dict["NAME"] = "/nonexistent-dir/db.sqlite3"
        try:
            api = ApiClient("opk_" + "x" * 43, language="ru")
            api.http.raise_request_exception = False
            listing = api.get("/api/v3/resellers/1/accounts")
            created = api.post("/api/v3/resellers/1/accounts", {"data": {"type": "accounts"}})
        finally:
            connection.close()
            connection.settings_dict.clear()
            connection.settings_dict.update(saved)
    for response in (listing, created):
        assert response.status_code == 503
        assert response["Retry-After"] == "5"
        assert response["Content-Type"] == "application/vnd.api+json"
        assert codes(response) == ["service_unavailable"]
        error = response.json()["errors"][0]
        assert error["title"] == "Сервис недоступен"
        assert "Traceback" not in response.content.decode()
