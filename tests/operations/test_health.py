"""/health/live and /health/ready: what a load balancer sees."""

import datetime as dt
import json

import pytest
from django.test import Client as HttpClient
from django.utils import timezone

from operations import probes
from tests.operations.conftest import beat, task_row
from tests.outage import database_out_of_reach


def body(response) -> dict:
    return json.loads(response.content)


def assert_untouched(response) -> None:
    """A probe sets no cookie and varies on nothing a session would."""
    assert "Set-Cookie" not in response.headers
    assert "Cookie" not in response.headers.get("Vary", "")
    assert response["Cache-Control"] == "no-store"


def test_live_answers_without_the_database(django_db_blocker):
    # No django_db mark: any query would fail the test.
    response = HttpClient().get("/health/live")
    assert response.status_code == 200
    assert body(response) == {"status": "ok"}
    assert_untouched(response)


@pytest.mark.django_db
def test_ready_when_every_check_passes():
    beat()
    response = HttpClient().get("/health/ready")
    assert response.status_code == 200, response.content
    data = body(response)
    assert data["status"] == "ok"
    assert data["failed"] == []
    assert set(data["checks"]) == {"database", "migrations", "task_queue", "worker_heartbeat"}
    assert all(check["ok"] for check in data["checks"].values())
    assert_untouched(response)


@pytest.mark.django_db
def test_probes_ignore_the_host_check_the_https_redirect_and_the_session(settings, petr_browser):
    """A balancer probes a node by its address over plain HTTP; a signed-in
    browser's session is not read or saved (SESSION_SAVE_EVERY_REQUEST is on)."""
    beat()
    settings.ALLOWED_HOSTS = ["panel.example.com"]
    settings.SECURE_SSL_REDIRECT = True
    for path in ("/health/live", "/health/ready", "/health/ready/"):
        response = petr_browser.get(path, HTTP_HOST="10.0.0.7:8000")
        assert response.status_code == 200, (path, response.content)
        assert_untouched(response)
        assert "Content-Security-Policy" not in response.headers


@pytest.mark.django_db
def test_ready_refuses_other_methods():
    response = HttpClient().post("/health/ready")
    assert response.status_code == 405
    assert response["Allow"] == "GET, HEAD"


@pytest.mark.django_db
def test_ready_fails_without_any_worker_heartbeat():
    response = HttpClient().get("/health/ready")
    assert response.status_code == 503
    data = body(response)
    assert data["status"] == "fail"
    assert data["failed"] == ["worker_heartbeat"]
    assert data["checks"]["worker_heartbeat"]["error"] == "no task worker has written a heartbeat"
    assert data["checks"]["database"]["ok"] is True


@pytest.mark.django_db
def test_ready_fails_on_a_stale_heartbeat(settings):
    settings.HEALTH_WORKER_HEARTBEAT_MAX_AGE = 60
    beat(seconds_ago=61)
    response = HttpClient().get("/health/ready")
    assert response.status_code == 503
    check = body(response)["checks"]["worker_heartbeat"]
    assert check["ok"] is False
    assert check["error"] == "the task workers' heartbeat is stale"
    assert check["age_seconds"] >= 61
    # Another worker's fresh heartbeat is enough.
    beat(worker_id="w2")
    assert HttpClient().get("/health/ready").status_code == 200


@pytest.mark.django_db
def test_ready_fails_when_the_oldest_ready_task_waited_too_long(settings):
    settings.HEALTH_QUEUE_MAX_AGE = 300
    beat()
    task_row(enqueued_seconds_ago=100)
    # Deferred to the future (a retry): not ready, not waiting.
    task_row(enqueued_seconds_ago=5000, run_after=timezone.now() + dt.timedelta(hours=1))
    # Finished long ago: not waiting either.
    task_row(status="SUCCESSFUL", enqueued_seconds_ago=9000, finished_days_ago=1)
    assert HttpClient().get("/health/ready").status_code == 200

    task_row(enqueued_seconds_ago=301)
    response = HttpClient().get("/health/ready")
    assert response.status_code == 503
    data = body(response)
    assert data["failed"] == ["task_queue"]
    assert data["checks"]["task_queue"]["oldest_ready_age_seconds"] >= 301


@pytest.mark.django_db
def test_a_deferred_task_waits_from_its_run_after(settings):
    settings.HEALTH_QUEUE_MAX_AGE = 300
    beat()
    task_row(enqueued_seconds_ago=5000, run_after=timezone.now() - dt.timedelta(seconds=10))
    assert HttpClient().get("/health/ready").status_code == 200
    task_row(enqueued_seconds_ago=5000, run_after=timezone.now() - dt.timedelta(seconds=400))
    assert body(HttpClient().get("/health/ready"))["failed"] == ["task_queue"]


@pytest.mark.django_db
def test_zero_turns_the_queue_and_heartbeat_checks_off(settings):
    settings.HEALTH_QUEUE_MAX_AGE = 0
    settings.HEALTH_WORKER_HEARTBEAT_MAX_AGE = 0
    task_row(enqueued_seconds_ago=100000)
    response = HttpClient().get("/health/ready")
    assert response.status_code == 200
    assert body(response)["checks"]["worker_heartbeat"] == {"ok": True, "disabled": True}


@pytest.mark.django_db
def test_ready_fails_while_migrations_are_pending(monkeypatch):
    beat()
    monkeypatch.setattr(probes, "_migrations_seen_applied", False)
    monkeypatch.setattr(probes.selectors, "migrations_pending", lambda: ["clients.0099_new_column"])
    response = HttpClient().get("/health/ready")
    assert response.status_code == 503
    data = body(response)
    assert data["failed"] == ["migrations"]
    assert data["checks"]["migrations"]["pending"] == ["clients.0099_new_column"]


@pytest.mark.django_db
def test_the_migration_check_reads_the_real_plan():
    """Against the test database, migrated by the suite: nothing is pending."""
    assert probes.selectors.migrations_pending() == []


def test_ready_fails_when_the_database_is_unreachable(django_db_blocker):
    """A real refused connection (a closed port, or an SQLite file that cannot
    be opened): 503 naming the database; the other checks are skipped."""
    with database_out_of_reach(django_db_blocker):
        response = HttpClient().get("/health/ready")
    assert response.status_code == 503
    data = body(response)
    assert data["failed"] == ["database"]
    assert data["checks"]["database"]["ok"] is False
    assert "OperationalError" in data["checks"]["database"]["error"]
    assert data["checks"]["worker_heartbeat"]["skipped"] == "the database is unreachable"
    assert_untouched(response)


def test_a_page_that_loses_the_database_answers_a_clean_503(django_db_blocker, settings):
    """DEBUG off, PostgreSQL (or the SQLite file) out of reach: the panel's
    own short page with Retry-After, in the reader's language, no traceback."""
    settings.DEBUG = False
    with database_out_of_reach(django_db_blocker):
        browser = HttpClient(raise_request_exception=False)
        browser.cookies["sessionid"] = "x" * 32
        response = browser.get("/clients/", HTTP_ACCEPT_LANGUAGE="ru")
    assert response.status_code == 503
    assert response["Retry-After"] == "5"
    html = response.content.decode()
    assert "Временно недоступно" in html
    assert "Traceback" not in html
    assert response["X-Request-ID"] in html


@pytest.mark.django_db
def test_other_errors_keep_djangos_500(settings, monkeypatch, petr_browser):
    settings.DEBUG = False
    from clients import selectors

    def broken(*args, **kwargs):
        raise RuntimeError("a bug")

    monkeypatch.setattr(selectors, "client_list_page", broken)
    petr_browser.raise_request_exception = False
    response = petr_browser.get("/clients/")
    assert response.status_code == 500


@pytest.mark.django_db
def test_a_failed_readiness_is_logged_once_as_a_warning(caplog):
    caplog.set_level("INFO")
    assert HttpClient().get("/health/ready").status_code == 503  # no worker heartbeat
    records = [(r.name, r.levelname) for r in caplog.records if "eadiness" in r.getMessage()]
    assert records == [("operations.probes", "WARNING")]
    assert not [r for r in caplog.records if r.name == "django.request"]
