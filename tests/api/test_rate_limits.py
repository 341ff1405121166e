"""Request limits shared by every web process (counted in the database):
per token, and failed authentications per address."""

import pytest

from api.services import api_prune, rate_count
from tests.api.conftest import ApiClient, codes, token_for

pytestmark = pytest.mark.django_db


def test_a_token_over_its_rate_gets_429_with_retry_after(settings, irina, root_reseller):
    settings.API_TOKEN_RATE_LIMIT = 3
    settings.API_TOKEN_RATE_WINDOW = 3600
    api = ApiClient(token_for(irina))
    url = f"/api/v3/resellers/{root_reseller.pk}/service_rules"
    assert [api.get(url).status_code for _ in range(3)] == [200, 200, 200]
    response = api.get(url)
    assert response.status_code == 429
    assert codes(response) == ["rate_limited"]
    assert 1 <= int(response["Retry-After"]) <= 3600
    # Another token of the same manager has its own count.
    assert ApiClient(token_for(irina, "second")).get(url).status_code == 200


def test_failed_authentication_is_limited_per_address(settings, irina, root_reseller):
    settings.API_AUTH_FAILURE_LIMIT = 2
    settings.API_AUTH_FAILURE_WINDOW = 3600
    url = f"/api/v3/resellers/{root_reseller.pk}/service_rules"
    bad = ApiClient("opk_wrong")
    assert [bad.get(url).status_code for _ in range(2)] == [401, 401]
    response = bad.get(url)
    assert response.status_code == 429 and int(response["Retry-After"]) >= 1
    # Another address is not held back; a good token is still let in.
    assert bad.get(url, REMOTE_ADDR="10.9.9.9").status_code == 401
    assert ApiClient(token_for(irina)).get(url).status_code == 200


def test_counts_add_up_within_a_window():
    first = rate_count(key="k", window=3600)
    second = rate_count(key="k", window=3600)
    assert (first.count, second.count) == (1, 2)


def test_prune_removes_old_keys_and_counters(irina):
    import datetime as dt
    import uuid

    from django.utils import timezone

    from api.models import IdempotencyKey, RateCounter

    old = IdempotencyKey.objects.create(
        manager=irina,
        key="old",
        fingerprint="x",
        creation_token=uuid.uuid4(),
        created_at=timezone.now() - dt.timedelta(hours=25),
    )
    fresh = IdempotencyKey.objects.create(
        manager=irina, key="fresh", fingerprint="x", creation_token=uuid.uuid4()
    )
    RateCounter.objects.create(key="stale", window_start=0, count=1)
    result = api_prune()
    assert result.idempotency_keys == 1 and result.counters == 1
    assert not IdempotencyKey.objects.filter(pk=old.pk).exists()
    assert IdempotencyKey.objects.filter(pk=fresh.pk).exists()
