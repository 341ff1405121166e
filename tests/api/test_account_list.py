"""GET accounts: pages by number and by cursor, each filter, and every
malformed parameter answered 400 with its name."""

import base64
import datetime as dt
import json

import pytest
from django.db import connection
from django.utils import timezone

from clients.models import ClientAccess, ClientAttributeValue, ClientStatus
from tests.api.conftest import codes
from tests.conftest import make_client, make_user

pytestmark = pytest.mark.django_db


def url(reseller, query: str = "") -> str:
    return f"/api/v3/resellers/{reseller.pk}/accounts" + (f"?{query}" if query else "")


def ids(response) -> list[int]:
    assert response.status_code == 200, response.content
    return [int(item["id"]) for item in response.json()["data"]]


@pytest.fixture
def seven(root_reseller, root_rules):
    """Seven clients created a day apart, the newest first in the list."""
    start = timezone.now() - dt.timedelta(days=10)
    clients = [
        make_client(
            reseller=root_reseller, rules=root_rules, created_at=start + dt.timedelta(days=i)
        )
        for i in range(7)
    ]
    return list(reversed(clients))


def test_the_first_page_newest_first_with_everything_shown(irina_api, root_reseller, root_rules):
    owner = make_user(email="owner@example.com")
    client = make_client(
        reseller=root_reseller,
        rules=root_rules,
        owner=owner,
        client_type=root_rules["company"],
        company_name="Вектор",
        name="Вектор",
    )
    ClientAttributeValue.objects.create(
        client=client, attribute=root_rules["attributes"]["inn"], value="7707083893"
    )
    response = irina_api.get(url(root_reseller))
    assert response["Content-Type"] == "application/vnd.api+json"
    body = response.json()
    (item,) = body["data"]
    assert item["type"] == "accounts" and item["id"] == str(client.pk)
    attributes = item["attributes"]
    assert attributes["primary_name"] == "Вектор"
    assert attributes["account_type_id"] == root_rules["company"].pk
    assert attributes["owner_email"] == "owner@example.com"
    assert attributes["custom_attributes"] == [{"key": "inn", "value": "7707083893"}]
    assert item["links"]["self"].endswith(
        f"/api/v3/resellers/{root_reseller.pk}/accounts/{client.pk}"
    )
    assert body["links"]["next"] is None
    assert body["meta"] == {"page": {"size": 50}}


def test_pages_by_cursor_cover_every_account_once(irina_api, root_reseller, seven):
    seen = []
    link = url(root_reseller, "page[size]=3")
    pages = 0
    while link:
        response = irina_api.get(link)
        seen += ids(response)
        link = response.json()["links"]["next"]
        pages += 1
    assert seen == [client.pk for client in seven]
    assert pages == 3


def test_pages_by_number(irina_api, root_reseller, seven):
    assert ids(irina_api.get(url(root_reseller, "page[size]=3&page[number]=2"))) == [
        client.pk for client in seven[3:6]
    ]
    response = irina_api.get(url(root_reseller, "page[size]=3&page[number]=3"))
    assert ids(response) == [seven[6].pk]
    assert response.json()["meta"]["page"] == {"size": 3, "number": 3}
    assert ids(irina_api.get(url(root_reseller, "page[size]=3&page[number]=4"))) == []


def test_page_number_beyond_the_limit_points_to_the_cursor(irina_api, root_reseller):
    response = irina_api.get(url(root_reseller, "page[number]=101"))
    assert response.status_code == 400
    (error,) = response.json()["errors"]
    assert error["code"] == "page_number_too_deep"
    assert error["source"] == {"parameter": "page[number]"}
    assert "page[after]" in error["detail"]


@pytest.mark.parametrize(
    "query",
    [
        "page[size]=0",
        "page[size]=501",
        "page[size]=abc",
        "page[size]=-1",
        "page[number]=0",
        "page[number]=99999999999999999999999",
        "page[size]=%EF%BC%91",  # a full-width digit
        "filter[status]=gone",
        "filter[created_at][gt]=yesterday",
        "filter[created_at][lt]=2026-13-01",
        "filter[created_at][gt]=2026-01-01T10:00:00",  # no offset
        "filter[created_at][gt]=0001-01-01T00:00:00%2B05:00",
        "filter[inn]=%00",
        "page[after]=x&page[number]=1",
        "sort=name",
        "page[size]=1&page[size]=2",
    ],
)
def test_bad_parameters_are_400_with_the_parameter(irina_api, root_reseller, query):
    response = irina_api.get(url(root_reseller, query))
    assert response.status_code == 400, response.content
    assert all("parameter" in error["source"] for error in response.json()["errors"])


def _cursor(values) -> str:
    return base64.urlsafe_b64encode(json.dumps(values).encode()).decode().rstrip("=")


@pytest.mark.parametrize(
    "cursor",
    [
        "not-base64!!",
        _cursor("text"),
        _cursor([1]),
        _cursor(["2026-01-01T00:00:00+00:00", "one"]),
        _cursor(["2026-01-01T00:00:00+00:00", 2**80]),
        _cursor(["2026-01-01T00:00:00+00:00", True]),
        _cursor(["not a date", 1]),
        _cursor(["2026-01-01T00:00:00", 1]),
        _cursor([None, 1]),
        _cursor({"a": 1}),
        base64.urlsafe_b64encode(b"\xff\xfe").decode(),
    ],
)
def test_crafted_cursors_are_400_never_500(irina_api, root_reseller, root_rules, cursor):
    make_client(reseller=root_reseller, rules=root_rules)
    response = irina_api.get(url(root_reseller, f"page[after]={cursor}"))
    assert response.status_code == 400, response.content
    assert codes(response) == ["invalid_cursor"]


def test_filter_email_comma_list_any_case(irina_api, root_reseller, root_rules):
    a = make_client(reseller=root_reseller, rules=root_rules, contract_email="a@example.com")
    b = make_client(reseller=root_reseller, rules=root_rules, contract_email="b@example.com")
    make_client(reseller=root_reseller, rules=root_rules, contract_email="c@example.com")
    found = ids(irina_api.get(url(root_reseller, "filter[email]=A@example.com,%20b@example.com")))
    assert sorted(found) == sorted([a.pk, b.pk])


def test_filter_user_email_finds_every_access(irina_api, root_reseller, root_rules):
    user = make_user(email="Shared@Example.com")
    owned = make_client(reseller=root_reseller, rules=root_rules, owner=user)
    admin_of = make_client(reseller=root_reseller, rules=root_rules)
    ClientAccess.objects.create(client=admin_of, user=user, level="admin")
    make_client(reseller=root_reseller, rules=root_rules)
    found = ids(irina_api.get(url(root_reseller, "filter[user_email]=shared@example.com")))
    assert sorted(found) == sorted([owned.pk, admin_of.pk])


def test_filter_inn(irina_api, root_reseller, root_rules):
    inn = root_rules["attributes"]["inn"]
    match = make_client(reseller=root_reseller, rules=root_rules, client_type=root_rules["company"])
    other = make_client(reseller=root_reseller, rules=root_rules, client_type=root_rules["company"])
    ClientAttributeValue.objects.create(client=match, attribute=inn, value="7707083893")
    ClientAttributeValue.objects.create(client=other, attribute=inn, value="500100732259")
    assert ids(irina_api.get(url(root_reseller, "filter[inn]=7707083893"))) == [match.pk]


def test_filter_created_at_by_datetime_and_by_day(irina_api, root_reseller, seven, settings):
    oldest_first = list(reversed(seven))
    middle = oldest_first[3].created_at
    gt = (middle - dt.timedelta(seconds=1)).isoformat().replace("+", "%2B")
    lt = (middle + dt.timedelta(seconds=1)).isoformat().replace("+", "%2B")
    both = f"filter[created_at][gt]={gt}&filter[created_at][lt]={lt}"
    assert ids(irina_api.get(url(root_reseller, both))) == [oldest_first[3].pk]
    # A day is a whole day of the panel's time zone: "gt" that day leaves it out.
    day = timezone.localtime(middle).date().isoformat()
    after_day = ids(irina_api.get(url(root_reseller, f"filter[created_at][gt]={day}")))
    before_day = ids(irina_api.get(url(root_reseller, f"filter[created_at][lt]={day}")))
    assert oldest_first[3].pk not in after_day + before_day
    assert sorted(after_day + before_day) == sorted(c.pk for c in seven if c != oldest_first[3])
    z = middle.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    assert oldest_first[3].pk not in ids(
        irina_api.get(url(root_reseller, f"filter[created_at][gt]={z}"))
    )


def test_filter_status_and_deleted_hidden_by_default(irina_api, root_reseller, root_rules):
    active = make_client(reseller=root_reseller, rules=root_rules)
    deleted = make_client(reseller=root_reseller, rules=root_rules, status=ClientStatus.DELETED)
    held = make_client(
        reseller=root_reseller, rules=root_rules, status=ClientStatus.ADMINISTRATIVE_HOLD
    )
    assert sorted(ids(irina_api.get(url(root_reseller)))) == sorted([active.pk, held.pk])
    assert ids(irina_api.get(url(root_reseller, "filter[status]=deleted"))) == [deleted.pk]
    both = ids(irina_api.get(url(root_reseller, "filter[status]=deleted,administrative_hold")))
    assert sorted(both) == sorted([deleted.pk, held.pk])


def test_read_one_account_any_status(irina_api, root_reseller, root_rules):
    deleted = make_client(reseller=root_reseller, rules=root_rules, status=ClientStatus.DELETED)
    response = irina_api.get(url(root_reseller) + f"/{deleted.pk}")
    assert response.status_code == 200
    assert response.json()["data"]["attributes"]["status"] == "deleted"
    for missing in ["999999", "abc", "0", "-1", "99999999999999999999999999"]:
        response = irina_api.get(url(root_reseller) + f"/{missing}")
        assert response.status_code == 404 and codes(response) == ["not_found"]


def test_password_attributes_are_never_given_out(irina_api, root_reseller, root_rules):
    from rules.models import Attribute, AttributeValueType

    secret = Attribute.objects.create(
        reseller=root_reseller, key="pin", name="PIN", value_type=AttributeValueType.PASSWORD
    )
    client = make_client(reseller=root_reseller, rules=root_rules)
    ClientAttributeValue.objects.create(client=client, attribute=secret, value="s3cr3t-pin")
    body = irina_api.get(url(root_reseller) + f"/{client.pk}").content.decode()
    assert "s3cr3t-pin" not in body


def test_list_runs_the_same_queries_for_5_and_60_accounts(irina_api, root_reseller, root_rules):
    for _ in range(5):
        make_client(reseller=root_reseller, rules=root_rules)
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    irina_api.get(url(root_reseller))  # the token's first use is written once
    with CaptureQueriesContext(connection) as five:
        irina_api.get(url(root_reseller))
    for _ in range(55):
        make_client(reseller=root_reseller, rules=root_rules)
    with CaptureQueriesContext(connection) as sixty:
        irina_api.get(url(root_reseller))
    assert len(five) == len(sixty)


@pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL's plans and indexes")
def test_filter_email_reads_its_index(root_reseller, root_rules):
    """An equality on UPPER(contract_email) that the clients/0009 index
    serves: at a million clients the table was read whole (1.3 s)."""
    from api.selectors import AccountFilters, _accounts

    make_client(reseller=root_reseller, rules=root_rules, contract_email="a@example.com")
    accounts = _accounts(reseller=root_reseller, filters=AccountFilters(emails=("A@example.com",)))
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        plan = accounts.order_by().explain()
        cursor.execute("SET LOCAL enable_seqscan = on")

    assert "clients_client_contract_email_upper" in plan, plan
