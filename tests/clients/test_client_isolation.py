"""Each reseller sees and acts only on its own clients; the root reseller's
staff see all. Another reseller's client by ID answers 404 on every URL."""

import csv
import io
import re

import pytest
from django.urls import reverse

from clients.models import ClientEvent, ClientStatus, PostpayPermission
from tests.conftest import make_client
from users.models import PostpayMode


@pytest.fixture(autouse=True)
def _fast_passwords(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def two_resellers(root_reseller, root_rules, sub_reseller, sub_rules):
    for reseller in (root_reseller, sub_reseller):
        reseller.postpay_mode = PostpayMode.MANUAL
        reseller.save()
    return {
        "root_client": make_client(
            reseller=root_reseller,
            rules=root_rules,
            name="Корневой клиент",
            postpay_permission=PostpayPermission.NOT_VERIFIED,
        ),
        "sub_client": make_client(
            reseller=sub_reseller,
            rules=sub_rules,
            name="Партнёрский клиент",
            postpay_permission=PostpayPermission.NOT_VERIFIED,
        ),
    }


# Every URL that names a client, with the ways it can be called.
OBJECT_REQUESTS = [
    ("clients:detail", "get", {}),
    ("clients:status", "get", {"status": ClientStatus.DELETED}),
    ("clients:status", "post", {"status": ClientStatus.DELETED}),
    ("clients:status", "post", {"status": ClientStatus.ADMINISTRATIVE_HOLD}),
    ("clients:postpay", "get", {"decision": PostpayPermission.APPROVED}),
    ("clients:postpay", "post", {"decision": PostpayPermission.APPROVED}),
]


@pytest.mark.parametrize(("name", "method", "data"), OBJECT_REQUESTS)
def test_another_resellers_client_is_404(petr_browser, two_resellers, name, method, data):
    client = two_resellers["root_client"]
    response = getattr(petr_browser, method)(reverse(name, args=[client.pk]), data)
    assert response.status_code == 404
    client.refresh_from_db()
    assert client.status == ClientStatus.ACTIVE
    assert client.postpay_permission == PostpayPermission.NOT_VERIFIED
    assert not ClientEvent.objects.filter(client=client).exists()


@pytest.mark.parametrize(("name", "method", "data"), OBJECT_REQUESTS)
def test_own_client_is_reachable(petr_browser, two_resellers, name, method, data):
    response = getattr(petr_browser, method)(
        reverse(name, args=[two_resellers["sub_client"].pk]), data
    )
    assert response.status_code in (200, 302)


@pytest.mark.parametrize(("name", "method", "data"), OBJECT_REQUESTS)
def test_root_staff_reach_every_resellers_client(irina_browser, two_resellers, name, method, data):
    response = getattr(irina_browser, method)(
        reverse(name, args=[two_resellers["sub_client"].pk]), data
    )
    assert response.status_code in (200, 302)


def test_list_never_shows_another_resellers_rows(petr_browser, two_resellers):
    root_client = two_resellers["root_client"]
    for params in (
        {},
        {"q": str(root_client.pk)},
        {"q": "Корневой"},
        {"reseller": root_client.reseller_id},
        {"service_rule": root_client.service_rule_id},
        {"status": ["active", "deleted"]},
    ):
        page = petr_browser.get(reverse("clients:list"), params).content.decode()
        ids = [int(pk) for pk in re.findall(r'data-client-id="(\d+)"', page)]
        assert root_client.pk not in ids
        assert "Корневой клиент" not in page


def test_export_never_contains_another_resellers_rows(petr_browser, two_resellers):
    root_client = two_resellers["root_client"]
    for params in ({}, {"q": str(root_client.pk)}, {"reseller": root_client.reseller_id}):
        response = petr_browser.get(reverse("clients:export"), params)
        body = b"".join(response.streaming_content).decode("utf-8-sig")
        ids = [row[0] for row in csv.reader(io.StringIO(body))][1:]
        assert str(root_client.pk) not in ids
        assert "Корневой клиент" not in body


def test_root_staff_see_both(irina_browser, two_resellers):
    page = irina_browser.get(reverse("clients:list")).content.decode()
    assert "Корневой клиент" in page and "Партнёрский клиент" in page
