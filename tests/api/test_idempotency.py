"""Idempotency-Key on create: a retry replays the first answer, another body
with the key is 422, a retry while the first runs is 409 (it holds the key's
lock), a key whose request died is taken over, a refused request frees its
key, and two racing requests with one key make one client."""

import threading
import uuid

import pytest
from django.db import connection

from api.models import IdempotencyKey
from clients.models import Client
from tests.api.conftest import ApiClient, codes, token_for
from tests.api.test_create import person_body, url

pytestmark = pytest.mark.django_db


def test_a_retry_replays_the_first_answer(irina_api, root_reseller, root_rules):
    key = str(uuid.uuid4())
    first = irina_api.post(url(root_reseller), person_body(root_rules), HTTP_IDEMPOTENCY_KEY=key)
    assert first.status_code == 201
    again = irina_api.post(url(root_reseller), person_body(root_rules), HTTP_IDEMPOTENCY_KEY=key)
    assert again.status_code == 201
    assert again.json() == first.json()
    assert again["Location"] == first["Location"]
    assert again["Idempotent-Replayed"] == "true"
    assert Client.objects.count() == 1


def test_the_same_key_with_another_body_is_422(irina_api, root_reseller, root_rules):
    key = "order-17"
    irina_api.post(url(root_reseller), person_body(root_rules), HTTP_IDEMPOTENCY_KEY=key)
    other = person_body(root_rules, email="someone.else@example.com")
    response = irina_api.post(url(root_reseller), other, HTTP_IDEMPOTENCY_KEY=key)
    assert response.status_code == 422 and codes(response) == ["idempotency_key_reused"]
    assert Client.objects.count() == 1


def test_keys_belong_to_their_manager(irina_api, root_reseller, root_rules, irina):
    from tests.conftest import make_manager

    other = ApiClient(token_for(make_manager(reseller=root_reseller)))
    irina_api.post(url(root_reseller), person_body(root_rules), HTTP_IDEMPOTENCY_KEY="k")
    body = person_body(root_rules, email="other@example.com")
    assert other.post(url(root_reseller), body, HTTP_IDEMPOTENCY_KEY="k").status_code == 201
    assert Client.objects.count() == 2


def test_a_key_left_without_an_answer_waits_or_is_taken_over(
    irina_api, root_reseller, root_rules, irina
):
    """A key row nobody answered: on PostgreSQL nobody holds its lock, so the
    request that claimed it is gone and a retry takes it over; SQLite cannot
    tell, and says "still running" until the key is stale."""
    from api.create import fingerprint

    body = person_body(root_rules)
    IdempotencyKey.objects.create(
        manager=irina,
        key="left",
        fingerprint=fingerprint(reseller_id=root_reseller.pk, body=body),
        creation_token=uuid.uuid4(),
    )
    response = irina_api.post(url(root_reseller), body, HTTP_IDEMPOTENCY_KEY="left")
    if connection.vendor == "postgresql":
        assert response.status_code == 201
        assert Client.objects.count() == 1
    else:
        assert response.status_code == 409 and codes(response) == ["idempotency_key_in_use"]
        assert not Client.objects.exists()


def test_a_create_that_lost_the_database_answers_503_and_its_retry_creates(
    irina_api, root_reseller, root_rules, monkeypatch
):
    """PostgreSQL restarting under a create: the client was written but its
    transaction died (nothing committed), and the key could not be released
    either. The answer is a JSON:API 503 with Retry-After; the retry with the
    same key creates the client once (on SQLite it waits for the key)."""
    from django.db import OperationalError

    from api import services as api_services
    from clients import services as client_services

    original = client_services.client_create

    def create_then_lose_the_database(**kwargs):
        original(**kwargs)
        raise OperationalError("terminating connection due to administrator command")

    def release_without_the_database(**kwargs):
        raise OperationalError("the connection is closed")

    body = person_body(root_rules)
    with monkeypatch.context() as patch:
        patch.setattr(client_services, "client_create", create_then_lose_the_database)
        patch.setattr(api_services, "idempotency_release", release_without_the_database)
        lost = irina_api.post(url(root_reseller), body, HTTP_IDEMPOTENCY_KEY="restart")
    assert lost.status_code == 503
    assert lost["Retry-After"] == "5"
    assert lost["Content-Type"] == "application/vnd.api+json"
    assert codes(lost) == ["service_unavailable"]
    assert "try again" in lost.json()["errors"][0]["detail"]
    assert not Client.objects.exists()
    assert IdempotencyKey.objects.filter(key="restart", completed_at=None).exists()

    retry = irina_api.post(url(root_reseller), body, HTTP_IDEMPOTENCY_KEY="restart")
    if connection.vendor == "postgresql":
        assert retry.status_code == 201
        assert Client.objects.count() == 1
        again = irina_api.post(url(root_reseller), body, HTTP_IDEMPOTENCY_KEY="restart")
        assert again["Idempotent-Replayed"] == "true"
        assert again.json() == retry.json()
    else:
        assert retry.status_code == 409


def test_a_refused_request_frees_its_key(irina_api, root_reseller, root_rules):
    bad = person_body(root_rules, city="")
    response = irina_api.post(url(root_reseller), bad, HTTP_IDEMPOTENCY_KEY="fix-me")
    assert response.status_code == 422
    assert not IdempotencyKey.objects.exists()
    good = person_body(root_rules)
    assert (
        irina_api.post(url(root_reseller), good, HTTP_IDEMPOTENCY_KEY="fix-me").status_code == 201
    )


def test_a_stale_key_is_taken_over_and_makes_no_second_client(
    irina_api, root_reseller, root_rules, irina, monkeypatch
):
    """A first request that died after creating the client (its answer never
    stored): the retry finds the client by the key's creation token."""
    import datetime as dt

    from django.utils import timezone

    from api.create import fingerprint

    body = person_body(root_rules)
    first = irina_api.post(url(root_reseller), body, HTTP_IDEMPOTENCY_KEY="died")
    assert first.status_code == 201
    IdempotencyKey.objects.filter(key="died").update(
        completed_at=None,
        response_status=None,
        response_body=None,
        created_at=timezone.now() - dt.timedelta(minutes=10),
    )
    retry = irina_api.post(url(root_reseller), body, HTTP_IDEMPOTENCY_KEY="died")
    assert retry.status_code == 201
    assert retry.json()["data"]["id"] == first.json()["data"]["id"]
    assert Client.objects.count() == 1
    assert fingerprint(reseller_id=root_reseller.pk, body=body)


@pytest.mark.skipif(
    connection.vendor != "postgresql", reason="PostgreSQL: two transactions in parallel"
)
@pytest.mark.django_db(transaction=True)
def test_two_racing_requests_with_one_key_make_one_client(
    root_reseller, root_rules, irina, monkeypatch
):
    """The second request arrives while the first is inside client_create:
    it answers 409; the first creates the client; a third replays it."""
    from clients import services

    token = token_for(irina)
    body = person_body(root_rules)
    inside, release = threading.Event(), threading.Event()
    original = services.client_create

    def slow_create(**kwargs):
        inside.set()
        release.wait(10)
        return original(**kwargs)

    monkeypatch.setattr(services, "client_create", slow_create)
    answers = {}

    def first():
        try:
            answers["first"] = ApiClient(token).post(
                url(root_reseller), body, HTTP_IDEMPOTENCY_KEY="race"
            )
        finally:
            connection.close()

    thread = threading.Thread(target=first)
    thread.start()
    assert inside.wait(10)
    second = ApiClient(token).post(url(root_reseller), body, HTTP_IDEMPOTENCY_KEY="race")
    release.set()
    thread.join(10)
    assert second.status_code == 409
    assert answers["first"].status_code == 201
    third = ApiClient(token).post(url(root_reseller), body, HTTP_IDEMPOTENCY_KEY="race")
    assert third.status_code == 201 and third.json() == answers["first"].json()
    assert Client.objects.count() == 1
