"""Reach: the token's manager's reseller and the ones downstream of it;
anything else answers 404 without telling whether it exists. The role's
permissions apply."""

import pytest

from api.services import api_token_create
from tests.api.conftest import ApiClient, codes, token_for
from tests.conftest import make_client, make_manager, make_reseller_rules
from users.models import ManagerRole, ManagerStatus, Reseller

pytestmark = pytest.mark.django_db

ENDPOINTS = ["accounts", "account_types", "service_rules", "managers"]


@pytest.fixture
def tree(root_reseller, sub_reseller):
    """Облако → Партнёр → Дочерний; Облако → Сосед."""
    child = Reseller.objects.create(name="Дочерний", parent=sub_reseller)
    sibling = Reseller.objects.create(name="Сосед", parent=root_reseller)
    rules = {}
    for reseller in (root_reseller, sub_reseller, child, sibling):
        rules[reseller.pk] = make_reseller_rules(reseller)
    clients = {
        reseller.pk: make_client(reseller=reseller, rules=rules[reseller.pk])
        for reseller in (root_reseller, sub_reseller, child, sibling)
    }
    return {
        "root": root_reseller,
        "sub": sub_reseller,
        "child": child,
        "sibling": sibling,
        "clients": clients,
    }


@pytest.mark.parametrize("endpoint", ENDPOINTS)
def test_a_sub_reseller_reaches_itself_and_downstream_only(petr_api, tree, endpoint):
    for name, status in [("sub", 200), ("child", 200), ("root", 404), ("sibling", 404)]:
        response = petr_api.get(f"/api/v3/resellers/{tree[name].pk}/{endpoint}")
        assert response.status_code == status, (name, endpoint)
        if status == 404:
            assert codes(response) == ["not_found"]
    response = petr_api.get("/api/v3/resellers/987654321/accounts")
    assert response.status_code == 404


def test_root_reaches_every_reseller(irina_api, tree):
    for name in ("root", "sub", "child", "sibling"):
        listed = irina_api.get(f"/api/v3/resellers/{tree[name].pk}/accounts").json()["data"]
        assert [int(item["id"]) for item in listed] == [tree["clients"][tree[name].pk].pk]


def test_an_account_of_another_reseller_under_a_reachable_path_is_404(petr_api, tree):
    parent_client = tree["clients"][tree["root"].pk]
    response = petr_api.get(f"/api/v3/resellers/{tree['sub'].pk}/accounts/{parent_client.pk}")
    assert response.status_code == 404
    own = tree["clients"][tree["sub"].pk]
    assert petr_api.get(f"/api/v3/resellers/{tree['sub'].pk}/accounts/{own.pk}").status_code == 200
    # A reachable account read under another (reachable) reseller's path is not found either.
    response = petr_api.get(f"/api/v3/resellers/{tree['child'].pk}/accounts/{own.pk}")
    assert response.status_code == 404


def test_a_marketing_manager_can_list(root_reseller, root_rules):
    marketing = make_manager(reseller=root_reseller, role=ManagerRole.MARKETING)
    api = ApiClient(token_for(marketing))
    assert api.get(f"/api/v3/resellers/{root_reseller.pk}/accounts").status_code == 200


def test_managers_lists_active_ones_with_keys(irina_api, root_reseller, irina):
    inactive = make_manager(reseller=root_reseller, status=ManagerStatus.INACTIVE)
    data = irina_api.get(f"/api/v3/resellers/{root_reseller.pk}/managers").json()["data"]
    keys = {item["attributes"]["key"] for item in data}
    assert irina.key in keys and inactive.key not in keys


def test_account_types_with_attributes(irina_api, root_reseller, root_rules):
    data = irina_api.get(f"/api/v3/resellers/{root_reseller.pk}/account_types").json()["data"]
    company = next(item for item in data if item["attributes"]["key"] == "company")
    assert company["attributes"]["primary_name"] == "Наименование компании"
    inn = next(a for a in company["attributes"]["attributes"] if a["key"] == "inn")
    assert inn == {
        "key": "inn",
        "name": "ИНН",
        "type": "string",
        "required": True,
        "format": None,
        "default_value": None,
        "available_values": [],
        "weight": 10,
    }
    person = next(item for item in data if item["attributes"]["key"] == "person")
    assert person["attributes"]["primary_name"] is None
    series = next(a for a in person["attributes"]["attributes"] if a["key"] == "passport_series")
    assert series["format"] == r"\d{4}"


def test_service_rules(irina_api, root_reseller, root_rules):
    data = irina_api.get(f"/api/v3/resellers/{root_reseller.pk}/service_rules").json()["data"]
    assert {item["attributes"]["key"] for item in data} == {"standard", "vip", "partner"}
    assert [item["attributes"]["is_default"] for item in data].count(True) == 1


def test_reference_lists_take_no_parameters(irina_api, root_reseller):
    response = irina_api.get(f"/api/v3/resellers/{root_reseller.pk}/managers?page[size]=1")
    assert response.status_code == 400 and codes(response) == ["unknown_parameter"]


def test_token_of_unused_helper(irina):
    assert api_token_create(manager=irina, name="x")[1]
