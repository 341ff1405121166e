"""The local stand-in directory: DaData's answer shape from made-up companies."""

import io
import threading

import pytest
import requests
from django.core.cache import cache
from django.core.management import call_command
from stdnum.ru import inn as inn_number
from stdnum.ru import ogrn as ogrn_number

from clients import directory_stub
from clients.directory import (
    CONTRACT_FIRST_NAME,
    CONTRACT_LAST_NAME,
    PartyStatus,
    directory_find_by_id,
    directory_suggest,
    suggestion_fields,
)
from clients.directory_stub import load_parties, start_stub
from users.models import AutofillField

SUGGEST = "/suggestions/api/4_1/rs/suggest/party"
FIND_BY_ID = "/suggestions/api/4_1/rs/findById/party"


@pytest.fixture(scope="module")
def stub():
    server = start_stub()
    yield server
    server.shutdown()
    server.server_close()


@pytest.fixture
def reseller(root_reseller, stub):
    cache.clear()
    root_reseller.autofill_enabled = True
    root_reseller.autofill_url = stub.base_url
    root_reseller.autofill_fields = list(AutofillField.values)
    root_reseller.save()
    yield root_reseller
    cache.clear()


def post(stub, path: str, body) -> requests.Response:
    return requests.post(f"{stub.base_url}{path}", json=body, timeout=5)


def test_the_data_set_has_every_kind_of_record_with_valid_numbers():
    parties = load_parties()
    for party in parties:
        assert set(party) == {"value", "unrestricted_value", "data"}
        data = party["data"]
        assert inn_number.is_valid(data["inn"]), data["inn"]
        assert ogrn_number.is_valid(data["ogrn"]), data["ogrn"]
        assert set(data["name"]) >= {"full_with_opf", "short_with_opf", "full", "short"}
        assert set(data["address"]) == {"value", "unrestricted_value", "invalidity", "data"}
        assert data["address"]["data"]["country_iso_code"] == "RU"
    kinds = {(p["data"]["type"], p["data"]["branch_type"]) for p in parties}
    assert {("LEGAL", "MAIN"), ("LEGAL", "BRANCH"), ("INDIVIDUAL", None)} <= kinds
    assert {p["data"]["state"]["status"] for p in parties} == set(PartyStatus.values)
    assert any(p["data"]["management"] for p in parties if p["data"]["type"] == "LEGAL")
    assert all(p["data"]["fio"] for p in parties if p["data"]["type"] == "INDIVIDUAL")
    branch = next(p for p in parties if p["data"]["branch_type"] == "BRANCH")
    head = next(
        p
        for p in parties
        if p["data"]["inn"] == branch["data"]["inn"] and p["data"]["branch_type"] == "MAIN"
    )
    assert branch["data"]["kpp"] != head["data"]["kpp"]


def test_suggest_matches_names_in_any_letter_case_and_honours_count(stub):
    answer = post(stub, SUGGEST, {"query": "сЕвЕрН", "count": 10})

    assert answer.status_code == 200
    assert answer.headers["Content-Type"].startswith("application/json")
    values = [s["value"] for s in answer.json()["suggestions"]]
    assert values == ['ООО "СЕВЕРНЫЙ ВЕТЕР"', 'ООО "СЕВЕРНЫЙ ВЕТЕР"', 'ООО "СЕВЕРНОЕ СИЯНИЕ"']
    assert len(post(stub, SUGGEST, {"query": "северн", "count": 2}).json()["suggestions"]) == 2
    assert post(stub, SUGGEST, {"query": "нет такой"}).json() == {"suggestions": []}


@pytest.mark.parametrize("query", ["7810632", "1077841234569", "звёздная", "ПыЛь"])
def test_suggest_matches_inn_ogrn_and_name_fragments(stub, query):
    [found] = post(stub, SUGGEST, {"query": query}).json()["suggestions"]

    assert found["data"]["inn"] == "7810632152"
    assert found["data"]["state"]["status"] == "LIQUIDATED"


def test_find_by_id_answers_the_head_office_and_branches_or_one_by_kpp(stub):
    both = post(stub, FIND_BY_ID, {"query": "7704943188"}).json()["suggestions"]
    branch = post(stub, FIND_BY_ID, {"query": "7704943188", "kpp": "165543001"}).json()

    assert [s["data"]["branch_type"] for s in both] == ["MAIN", "BRANCH"]
    assert [s["data"]["kpp"] for s in branch["suggestions"]] == ["165543001"]
    assert post(stub, FIND_BY_ID, {"query": "7704943"}).json() == {"suggestions": []}


def test_the_stub_refuses_what_dadata_refuses(stub):
    assert post(stub, "/suggestions/api/4_1/rs/suggest/address", {"query": "x"}).status_code == 404
    assert post(stub, SUGGEST, {"count": 3}).status_code == 400
    bad_json = requests.post(
        f"{stub.base_url}{SUGGEST}",
        data=b"{not json",
        headers={"Content-Type": "application/json"},
        timeout=5,
    )
    assert bad_json.status_code == 400
    assert requests.get(f"{stub.base_url}{SUGGEST}", timeout=5).status_code == 405


def test_the_client_reads_the_stub_end_to_end(reseller):
    [trader] = directory_suggest(query="соколова", reseller=reseller)
    [branch] = directory_find_by_id(inn_or_ogrn="7704943188", kpp="165543001", reseller=reseller)
    [liquidated] = directory_find_by_id(inn_or_ogrn="1077841234569", reseller=reseller)

    assert trader.is_individual and trader.ogrn == "321502700045670"
    fields = suggestion_fields(trader, allowed=reseller.autofill_fields)
    assert (fields[CONTRACT_LAST_NAME], fields[CONTRACT_FIRST_NAME]) == ("Соколова", "Мария")
    assert branch.is_branch and branch.city_with_type == "г Казань"
    assert liquidated.status == PartyStatus.LIQUIDATED


def test_the_management_command_serves_the_stub(monkeypatch):
    servers = []

    def make(host, port, **options):
        server = directory_stub.make_stub_server(host, 0, **options)
        servers.append(server)
        return server

    monkeypatch.setattr(
        "clients.management.commands.directory_stub.make_stub_server", make, raising=True
    )
    output = io.StringIO()
    thread = threading.Thread(
        target=call_command,
        args=["directory_stub", "--host", "127.0.0.1", "--port", "8001"],
        kwargs={"stdout": output},
        daemon=True,
    )
    thread.start()
    try:
        for _ in range(100):
            if servers and "Ctrl+C" in output.getvalue():
                break
            threading.Event().wait(0.05)
        answer = post(servers[0], SUGGEST, {"query": "маяк", "count": 1})
        assert [s["data"]["inn"] for s in answer.json()["suggestions"]] == ["5008761239"]
        assert servers[0].base_url in output.getvalue()
    finally:
        if servers:
            servers[0].shutdown()
        thread.join(5)
    assert not thread.is_alive()
