"""/metrics: the token, and each family moving when its event happens."""

import pytest
from django.core import mail
from django.core.cache import cache
from django.test import Client as HttpClient
from prometheus_client.parser import text_string_to_metric_families

from clients.directory import directory_suggest
from notifications.delivery import DeliveryAttemptFailed, delivery_attempt
from notifications.models import Delivery
from notifications.services import notify
from notifications.tasks import delivery_enqueue
from tests.clients.test_client_create_page import CREATE_URL, page_data, person
from tests.conftest import PASSWORD
from tests.notifications.test_smtp_worker import free_port
from tests.operations.conftest import beat, sample, task_row

TOKEN = "s3cret-metrics-token"


@pytest.fixture
def token(settings):
    settings.METRICS_TOKEN = TOKEN


def scrape(**headers) -> dict[str, dict]:
    """The scrape, as {family: {(sample name, labels): value}}."""
    response = HttpClient().get("/metrics", HTTP_AUTHORIZATION=f"Bearer {TOKEN}", **headers)
    assert response.status_code == 200, response.content
    families = {}
    for family in text_string_to_metric_families(response.content.decode()):
        families[family.name] = {
            (s.name, tuple(sorted(s.labels.items()))): s.value for s in family.samples
        }
    return families


def test_without_a_token_setting_metrics_do_not_exist(settings):
    settings.METRICS_TOKEN = ""
    response = HttpClient().get("/metrics", HTTP_AUTHORIZATION="Bearer anything")
    assert response.status_code == 404


@pytest.mark.parametrize("header", [None, "Bearer wrong", f"Basic {TOKEN}", f"Bearer {TOKEN}x"])
def test_a_missing_or_wrong_token_is_refused(token, header):
    extra = {"HTTP_AUTHORIZATION": header} if header else {}
    response = HttpClient().get("/metrics", **extra)
    assert response.status_code == 401
    assert response["WWW-Authenticate"] == 'Bearer realm="metrics"'
    assert b"panel_" not in response.content
    assert "Set-Cookie" not in response.headers


@pytest.mark.django_db
def test_requests_are_counted_by_view_and_status_with_latency_and_queries(token, petr_browser):
    labels = {"view": "clients:list", "method": "GET", "status": "200"}
    before = sample("panel_http_requests_total", **labels)
    before_latency = sample("panel_http_request_duration_seconds_count", **labels)
    before_queries = sample("panel_http_request_db_queries_count", view="clients:list")
    queries_sum = sample("panel_http_request_db_queries_sum", view="clients:list")
    assert petr_browser.get("/clients/").status_code == 200
    assert petr_browser.get("/clients/?q=ромашка").status_code == 200
    assert sample("panel_http_requests_total", **labels) == before + 2
    assert sample("panel_http_request_duration_seconds_count", **labels) == before_latency + 2
    assert sample("panel_http_request_db_queries_count", view="clients:list") == before_queries + 2
    assert sample("panel_http_request_db_queries_sum", view="clients:list") > queries_sum
    # An unknown URL does not invent a label value.
    unresolved = {"view": "<unresolved>", "method": "GET", "status": "404"}
    before_404 = sample("panel_http_requests_total", **unresolved)
    petr_browser.get("/no/such/page/")
    assert sample("panel_http_requests_total", **unresolved) == before_404 + 1
    families = scrape()
    assert (
        families["panel_http_requests"][
            ("panel_http_requests_total", tuple(sorted(labels.items())))
        ]
        >= 2
    )


@pytest.mark.django_db
def test_the_queue_and_heartbeat_are_read_from_the_database_at_scrape_time(token):
    beat(seconds_ago=12)
    task_row(enqueued_seconds_ago=42)
    task_row(enqueued_seconds_ago=5)
    task_row(status="RUNNING")
    task_row(status="SUCCESSFUL", finished_days_ago=1)
    families = scrape()
    depth = families["panel_task_queue_depth"]
    assert depth[("panel_task_queue_depth", (("queue", "default"), ("status", "ready")))] == 2
    assert depth[("panel_task_queue_depth", (("queue", "default"), ("status", "running")))] == 1
    oldest = families["panel_task_oldest_ready_age_seconds"]
    assert 42 <= oldest[("panel_task_oldest_ready_age_seconds", ())] < 100
    heartbeat = families["panel_worker_heartbeat_age_seconds"]
    assert 12 <= heartbeat[("panel_worker_heartbeat_age_seconds", ())] < 100
    assert families["panel_metrics_db_up"][("panel_metrics_db_up", ())] == 1


@pytest.mark.django_db
def test_a_client_created_on_the_page_counts_once_it_commits(
    token, petr_browser, sub_rules, django_capture_on_commit_callbacks
):
    before = sample("panel_clients_created_total", channel="page")
    data = person(
        page_data(petr_browser.get(CREATE_URL)),
        **{"owner-new_email": "metrics-owner@example.com", "contacts-email": "m@example.com"},
    )
    with django_capture_on_commit_callbacks(execute=True):
        response = petr_browser.post(CREATE_URL, data)
    assert response.status_code == 302
    assert sample("panel_clients_created_total", channel="page") == before + 1


@pytest.mark.django_db
def test_a_rolled_back_client_is_not_counted(
    petr_browser, sub_rules, django_capture_on_commit_callbacks
):
    before = sample("panel_clients_created_total", channel="page")
    data = person(page_data(petr_browser.get(CREATE_URL)), **{"owner-new_email": "not-an-email"})
    with django_capture_on_commit_callbacks(execute=True):
        response = petr_browser.post(CREATE_URL, data)
    assert response.status_code == 200  # the form's errors
    assert sample("panel_clients_created_total", channel="page") == before


@pytest.mark.django_db
def test_notifications_queued_sent_retried_and_failed(
    settings, client_of_root, root_handler, django_capture_on_commit_callbacks
):
    settings.NOTIFICATION_MAX_ATTEMPTS = 2
    counts = {
        o: sample("panel_notifications_total", outcome=o)
        for o in ("queued", "sent", "retried", "failed")
    }

    def moved() -> dict[str, float]:
        return {o: sample("panel_notifications_total", outcome=o) - counts[o] for o in counts}

    with django_capture_on_commit_callbacks(execute=True):
        [delivery] = notify(event="client.created", client=client_of_root, actor=None)
    assert moved() == {"queued": 1, "sent": 0, "retried": 0, "failed": 0}

    with django_capture_on_commit_callbacks(execute=True):
        delivery_attempt(delivery_id=delivery.pk, schedule_retry=delivery_enqueue)
    assert len(mail.outbox) == 1
    assert moved() == {"queued": 1, "sent": 1, "retried": 0, "failed": 0}

    # A mail server that refuses: one retry, then given up (two attempts in all).
    settings.MAILERS = {
        "default": {
            "BACKEND": "django.core.mail.backends.smtp.EmailBackend",
            "OPTIONS": {"host": "127.0.0.1", "port": free_port(), "timeout": 2},
        }
    }
    with django_capture_on_commit_callbacks(execute=True):
        [second] = notify(event="client.created", client=client_of_root, actor=None)
    for _attempt in range(2):
        with (
            django_capture_on_commit_callbacks(execute=True),
            pytest.raises(DeliveryAttemptFailed),
        ):
            delivery_attempt(delivery_id=second.pk, schedule_retry=delivery_enqueue)
    assert Delivery.objects.get(pk=second.pk).status == "failed"
    assert moved() == {"queued": 2, "sent": 1, "retried": 1, "failed": 1}


@pytest.fixture
def directory_reseller(root_reseller, httpserver):
    cache.clear()
    root_reseller.autofill_enabled = True
    root_reseller.autofill_url = httpserver.url_for("/")
    root_reseller.save()
    yield root_reseller
    cache.clear()


SUGGEST = "/suggestions/api/4_1/rs/suggest/party"


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("respond", "cause"),
    [
        ({"status": 500, "response_data": "oops"}, "status"),
        ({"response_data": "not json"}, "invalid_json"),
        ({"response_json": {"suggestions": "nope"}}, "shape"),
    ],
)
def test_directory_calls_and_failures_by_cause(directory_reseller, httpserver, respond, cause):
    calls = sample("panel_directory_calls_total", method="suggest")
    failures = sample("panel_directory_failures_total", method="suggest", cause=cause)
    if "response_json" in respond:
        httpserver.expect_request(SUGGEST).respond_with_json(respond["response_json"])
    else:
        httpserver.expect_request(SUGGEST).respond_with_data(
            respond["response_data"], status=respond.get("status", 200)
        )
    assert directory_suggest(query="ромашка", reseller=directory_reseller) == []
    assert sample("panel_directory_calls_total", method="suggest") == calls + 1
    assert sample("panel_directory_failures_total", method="suggest", cause=cause) == failures + 1


@pytest.mark.django_db
def test_a_refused_directory_connection_is_a_connection_failure(root_reseller):
    cache.clear()
    root_reseller.autofill_enabled = True
    root_reseller.autofill_url = f"http://127.0.0.1:{free_port()}"
    root_reseller.save()
    failures = sample("panel_directory_failures_total", method="suggest", cause="connection")
    directory_suggest(query="ромашка", reseller=root_reseller)
    assert (
        sample("panel_directory_failures_total", method="suggest", cause="connection")
        == failures + 1
    )


@pytest.mark.django_db
def test_sign_in_failures_and_lockouts(settings, petr):
    settings.AXES_FAILURE_LIMIT = 3
    failures = sample("panel_sign_in_failures_total")
    lockouts = sample("panel_sign_in_lockouts_total")
    browser = HttpClient(REMOTE_ADDR="10.9.9.9")
    browser.post("/accounts/login/", {"username": "petr@partner.example", "password": "wrong"})
    assert sample("panel_sign_in_failures_total") == failures + 1
    assert sample("panel_sign_in_lockouts_total") == lockouts
    for _ in range(2):
        browser.post("/accounts/login/", {"username": "petr@partner.example", "password": "wrong"})
    assert sample("panel_sign_in_lockouts_total") == lockouts + 1
    response = browser.post(
        "/accounts/login/", {"username": "petr@partner.example", "password": PASSWORD}
    )
    assert response.status_code == 429
    assert sample("panel_sign_in_lockouts_total") == lockouts + 2


@pytest.mark.django_db
def test_a_client_created_through_the_api_counts_as_api(
    irina, root_reseller, root_rules, django_capture_on_commit_callbacks
):
    from tests.api.conftest import ApiClient, token_for
    from tests.api.test_create import company, url

    before = sample("panel_clients_created_total", channel="api")
    page_before = sample("panel_clients_created_total", channel="page")
    with django_capture_on_commit_callbacks(execute=True):
        response = ApiClient(token_for(irina)).post(url(root_reseller), company(root_rules))
    assert response.status_code == 201, response.content
    assert sample("panel_clients_created_total", channel="api") == before + 1
    assert sample("panel_clients_created_total", channel="page") == page_before
