"""The directory client against a real HTTP server on loopback (pytest-httpserver).

It must speak DaData's party API exactly, map answers to the Add client
page's fields, and turn every failure into "no suggestions" and one log line.
"""

import json
import logging
import socket
import threading
import time

import pytest
from django.utils import translation
from werkzeug import Response

from clients.directory import (
    CONTRACT_FIRST_NAME,
    CONTRACT_LAST_NAME,
    CONTRACT_MIDDLE_NAME,
    PartyStatus,
    directory_endpoint,
    directory_find_by_id,
    directory_suggest,
    suggestion_fields,
)
from clients.directory_stub import load_parties
from clients.directory_transport import RETRY
from users.models import AutofillField

pytestmark = pytest.mark.usefixtures("empty_cache")

SUGGEST = "/suggestions/api/4_1/rs/suggest/party"
FIND_BY_ID = "/suggestions/api/4_1/rs/findById/party"
API_KEY = "0123456789abcdef-secret-key"
ALL_FIELDS = set(AutofillField.values)
PARTIES = {
    party["data"]["inn"] + "/" + (party["data"]["kpp"] or ""): party for party in load_parties()
}
HEAD = PARTIES["7704943188/770401001"]  # ООО "СЕВЕРНЫЙ ВЕТЕР", head office in Moscow
BRANCH = PARTIES["7704943188/165543001"]  # its branch in Kazan
SOLE_TRADER = PARTIES["502938174655/"]  # ИП Соколова Мария Андреевна
LIQUIDATED = PARTIES["7810632152/781001001"]  # АО "ЗВЁЗДНАЯ ПЫЛЬ"
FOUR_PART_MANAGER = PARTIES["5008761239/500801001"]  # ООО "ОБЛАЧНЫЙ МАЯК", Алиев Рашид Ахмед Оглы


@pytest.fixture
def reseller(root_reseller, httpserver):
    root_reseller.autofill_enabled = True
    root_reseller.autofill_url = httpserver.url_for("/")
    root_reseller.autofill_api_key = API_KEY
    root_reseller.autofill_fields = sorted(ALL_FIELDS)
    root_reseller.save()
    return root_reseller


@pytest.fixture
def short_timeouts(settings):
    settings.DIRECTORY_CONNECT_TIMEOUT = 0.2
    settings.DIRECTORY_READ_TIMEOUT = 0.2


@pytest.fixture
def directory_log(caplog):
    caplog.set_level(logging.WARNING, logger="clients.directory")

    def records() -> list[logging.LogRecord]:
        return [record for record in caplog.records if record.name == "clients.directory"]

    return records


def answer(*parties) -> dict:
    return {"suggestions": list(parties)}


# The request


def test_suggest_posts_dadata_body_with_token_to_the_suggest_path(reseller, httpserver):
    httpserver.expect_request(
        SUGGEST,
        method="POST",
        headers={
            "Authorization": f"Token {API_KEY}",
            "Content-Type": "application/json",
            "Accept": "application/json",
        },
        json={"query": "северный ветер", "count": 5},
    ).respond_with_json(answer(HEAD, BRANCH))

    suggestions = directory_suggest(query="  северный   ветер ", count=5, reseller=reseller)

    httpserver.check_assertions()
    assert [s.kpp for s in suggestions] == ["770401001", "165543001"]


def test_count_defaults_to_ten_and_is_capped_at_dadatas_twenty(reseller, httpserver):
    httpserver.expect_ordered_request(SUGGEST, json={"query": "ромашка", "count": 10})
    httpserver.expect_ordered_request(SUGGEST, json={"query": "ромашка", "count": 20})
    for handler in httpserver.ordered_handlers:
        handler.respond_with_json(answer())

    assert directory_suggest(query="ромашка", reseller=reseller) == []
    assert directory_suggest(query="ромашка", count=500, reseller=reseller) == []
    httpserver.check_assertions()


def test_find_by_id_posts_the_number_and_kpp_to_the_find_by_id_path(reseller, httpserver):
    httpserver.expect_ordered_request(
        FIND_BY_ID,
        method="POST",
        headers={"Authorization": f"Token {API_KEY}"},
        json={"query": "7704943188"},
    ).respond_with_json(answer(HEAD, BRANCH))
    httpserver.expect_ordered_request(
        FIND_BY_ID, method="POST", json={"query": "7704943188", "kpp": "165543001"}
    ).respond_with_json(answer(BRANCH))

    both = directory_find_by_id(inn_or_ogrn="7704943188", reseller=reseller)
    branch = directory_find_by_id(inn_or_ogrn=" 7704943188 ", kpp="165543001", reseller=reseller)

    httpserver.check_assertions()
    assert [s.branch_type for s in both] == ["MAIN", "BRANCH"]
    assert [s.kpp for s in branch] == ["165543001"]


def test_no_authorization_header_without_a_key(reseller, httpserver):
    reseller.autofill_api_key = ""
    seen = []

    def handler(request):
        seen.append(dict(request.headers))
        return Response(json.dumps(answer(HEAD)), content_type="application/json")

    httpserver.expect_request(SUGGEST).respond_with_handler(handler)

    assert len(directory_suggest(query="северный", reseller=reseller)) == 1
    assert "Authorization" not in seen[0]


def test_an_empty_query_asks_nothing(reseller, httpserver):
    assert directory_suggest(query="   ", reseller=reseller) == []
    assert directory_find_by_id(inn_or_ogrn="", reseller=reseller) == []
    assert httpserver.log == []


@pytest.mark.parametrize(
    "configured",
    [
        "https://suggestions.dadata.ru",
        "https://suggestions.dadata.ru/",
        "https://suggestions.dadata.ru/suggestions/api/4_1/rs",
        "https://suggestions.dadata.ru/suggestions/api/4_1/rs/",
        "https://suggestions.dadata.ru/suggestions/api/4_1/rs/suggest/party",
        " https://suggestions.dadata.ru/suggestions/api/4_1/rs/findById/party ",
    ],
)
def test_the_configured_url_is_the_base_the_api_path_goes_under(configured):
    root = "https://suggestions.dadata.ru/suggestions/api/4_1/rs"
    assert directory_endpoint(configured, method="suggest") == f"{root}/suggest/party"
    assert directory_endpoint(configured, method="findById") == f"{root}/findById/party"


def test_a_path_in_the_configured_url_is_kept_as_a_prefix():
    assert (
        directory_endpoint("https://proxy.example/dadata/", method="suggest")
        == "https://proxy.example/dadata/suggestions/api/4_1/rs/suggest/party"
    )


# The answer


def test_a_legal_entity_maps_to_the_page_fields(reseller, httpserver):
    httpserver.expect_request(SUGGEST).respond_with_json(answer(HEAD))

    [company] = directory_suggest(query="северный", reseller=reseller)

    assert company.value == 'ООО "СЕВЕРНЫЙ ВЕТЕР"'
    assert company.full_name == 'ОБЩЕСТВО С ОГРАНИЧЕННОЙ ОТВЕТСТВЕННОСТЬЮ "СЕВЕРНЫЙ ВЕТЕР"'
    assert (company.inn, company.kpp, company.ogrn) == ("7704943188", "770401001", "1177746123455")
    assert (company.management_name, company.management_post) == (
        "Белов Андрей Петрович",
        "ГЕНЕРАЛЬНЫЙ ДИРЕКТОР",
    )
    assert company.is_active and not company.is_individual and not company.is_branch
    assert company.fio is None
    assert company.address == "г Москва, ул Волхонка, д 99, стр 2, офис 301"
    assert suggestion_fields(company, allowed=ALL_FIELDS) == {
        "company_name": 'ООО "СЕВЕРНЫЙ ВЕТЕР"',
        "inn": "7704943188",
        "kpp": "770401001",
        "ogrn": "1177746123455",
        "country": "RU",
        "region": "г Москва",
        "city": "г Москва",
        "postal_code": "119019",
        "address": "ул Волхонка, д 99, стр 2, офис 301",
        CONTRACT_LAST_NAME: "Белов",
        CONTRACT_FIRST_NAME: "Андрей",
        CONTRACT_MIDDLE_NAME: "Петрович",
    }


def test_a_sole_trader_fills_the_contract_person_from_fio_and_clears_kpp(reseller, httpserver):
    httpserver.expect_request(SUGGEST).respond_with_json(answer(SOLE_TRADER))

    [trader] = directory_suggest(query="соколова", reseller=reseller)

    assert trader.is_individual and trader.party_type == "INDIVIDUAL"
    assert (trader.fio.surname, trader.fio.name, trader.fio.patronymic) == (
        "Соколова",
        "Мария",
        "Андреевна",
    )
    fields = suggestion_fields(trader, allowed=ALL_FIELDS)
    assert fields["company_name"] == "ИП Соколова Мария Андреевна"
    assert (fields["inn"], fields["ogrn"], fields["kpp"]) == ("502938174655", "321502700045670", "")
    assert (fields["region"], fields["city"], fields["postal_code"]) == (
        "Московская обл",
        "г Подольск",
        "142100",
    )
    # The directory knows no street for her: the address line is the whole address.
    assert fields["address"] == "Московская обл, г Подольск"
    assert (
        fields[CONTRACT_LAST_NAME],
        fields[CONTRACT_FIRST_NAME],
        fields[CONTRACT_MIDDLE_NAME],
    ) == ("Соколова", "Мария", "Андреевна")


def test_a_branch_and_a_liquidated_company_keep_their_kind_and_status(reseller, httpserver):
    httpserver.expect_request(SUGGEST).respond_with_json(answer(BRANCH, LIQUIDATED))

    branch, liquidated = directory_suggest(query="что-то", reseller=reseller)

    assert branch.is_branch and branch.kpp == "165543001" and branch.city_with_type == "г Казань"
    assert branch.management_name == "" and branch.contract_person.full == ""
    assert liquidated.status == PartyStatus.LIQUIDATED and not liquidated.is_active
    with translation.override("en"):
        assert liquidated.status_label == "Liquidated"


def test_a_patronymic_of_several_words_stays_whole(reseller, httpserver):
    httpserver.expect_request(SUGGEST).respond_with_json(answer(FOUR_PART_MANAGER))

    [company] = directory_suggest(query="маяк", reseller=reseller)

    fields = suggestion_fields(company, allowed={AutofillField.CONTRACT_PERSON})
    assert fields == {
        CONTRACT_LAST_NAME: "Алиев",
        CONTRACT_FIRST_NAME: "Рашид",
        CONTRACT_MIDDLE_NAME: "Ахмед Оглы",
    }


def test_only_the_resellers_ticked_fields_are_filled(reseller, httpserver):
    httpserver.expect_request(SUGGEST).respond_with_json(answer(HEAD))
    [company] = directory_suggest(query="северный", reseller=reseller)

    fields = suggestion_fields(company, allowed=["company_name", "inn", "unknown"])

    assert fields == {"company_name": 'ООО "СЕВЕРНЫЙ ВЕТЕР"', "inn": "7704943188"}
    assert suggestion_fields(company, allowed=[]) == {}


def test_the_company_name_can_leave_the_legal_form_out(reseller, httpserver):
    httpserver.expect_request(SUGGEST).respond_with_json(answer(HEAD, SOLE_TRADER))
    company, trader = directory_suggest(query="что-то", reseller=reseller)

    def name(suggestion):
        return suggestion_fields(suggestion, allowed={"company_name"}, with_legal_form=False)

    assert name(company) == {"company_name": "СЕВЕРНЫЙ ВЕТЕР"}
    assert name(trader) == {"company_name": "Соколова Мария Андреевна"}


def test_nulls_and_missing_parts_become_empty_strings(reseller, httpserver):
    sparse = {"value": "ООО ПУСТО", "data": {"inn": 7700000000, "kpp": None, "address": None}}
    httpserver.expect_request(SUGGEST).respond_with_json(answer(sparse))

    [company] = directory_suggest(query="пусто", reseller=reseller)

    assert (company.inn, company.kpp, company.status, company.address) == ("7700000000", "", "", "")
    assert suggestion_fields(company, allowed={"company_name", "city"}) == {
        "company_name": "ООО ПУСТО",
        "city": "",
    }


def test_malformed_records_are_skipped_and_the_rest_kept(reseller, httpserver, directory_log):
    httpserver.expect_request(SUGGEST).respond_with_json(
        {"suggestions": ["junk", {"value": "no data"}, HEAD]}
    )

    suggestions = directory_suggest(query="северный", reseller=reseller)

    assert [s.inn for s in suggestions] == ["7704943188"]
    [record] = directory_log()
    assert "'Облако' (id " in record.getMessage()
    assert "skipped 2 malformed suggestion(s) of 3" in record.getMessage()


# Failures: no suggestions, one warning, never the key


def assert_one_warning(directory_log, *causes: str) -> None:
    [record] = directory_log()
    message = record.getMessage()
    assert record.levelno == logging.WARNING
    assert "'Облако' (id " in message  # the reseller
    for cause in causes:
        assert cause in message
    assert API_KEY not in message
    assert "\n" not in message


def test_a_timeout_gives_nothing_within_the_configured_time(
    reseller, httpserver, short_timeouts, directory_log
):
    release = threading.Event()
    calls = []

    def too_slow(request):
        calls.append(request.path)
        release.wait(5)
        return Response(json.dumps(answer(HEAD)), content_type="application/json")

    httpserver.expect_request(SUGGEST).respond_with_handler(too_slow)

    started = time.monotonic()
    try:
        assert directory_suggest(query="северный", reseller=reseller) == []
        elapsed = time.monotonic() - started
    finally:
        release.set()

    assert elapsed < 5  # a 0.2 s read timeout, with room for a slow machine
    assert len(calls) == 1  # a read timeout is not retried
    assert_one_warning(directory_log, "suggest failed", "timed out", "read 0.2 s")


@pytest.mark.parametrize(("status", "shown"), [(500, "HTTP 500"), (403, "HTTP 403")])
def test_an_error_status_gives_nothing_and_is_not_retried(
    reseller, httpserver, directory_log, status, shown
):
    httpserver.expect_request(SUGGEST).respond_with_json({"message": "nope"}, status=status)

    assert directory_suggest(query="северный", reseller=reseller) == []

    assert len(httpserver.log) == 1
    assert_one_warning(directory_log, shown)


@pytest.mark.parametrize(
    ("body", "cause"),
    [
        ("<html>Bad gateway</html>", "invalid JSON"),
        ('{"suggestions": [', "invalid JSON"),
        ("[1, 2, 3]", "unexpected answer"),
        ('{"suggestions": "many"}', "unexpected answer"),
        ('{"family": []}', "unexpected answer"),
    ],
)
def test_a_malformed_body_gives_nothing(reseller, httpserver, directory_log, body, cause):
    httpserver.expect_request(SUGGEST).respond_with_data(body, content_type="application/json")

    assert directory_suggest(query="северный", reseller=reseller) == []

    assert_one_warning(directory_log, cause)


def closed_port_url() -> str:
    """The address of a loopback port that nothing listens on."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    return f"http://127.0.0.1:{port}"


def test_a_dead_service_gives_nothing(reseller, short_timeouts, directory_log):
    reseller.autofill_url = closed_port_url()

    assert directory_find_by_id(inn_or_ogrn="7704943188", reseller=reseller) == []

    assert_one_warning(directory_log, "findById failed", "ConnectionError")


def test_a_redirect_is_not_followed(reseller, httpserver, directory_log):
    httpserver.expect_request(SUGGEST).respond_with_data(
        "", status=301, headers={"Location": "https://elsewhere.example/"}
    )

    assert directory_suggest(query="северный", reseller=reseller) == []

    assert len(httpserver.log) == 1
    assert_one_warning(directory_log, "HTTP 301")


# Retries: at most one, and only where nothing can have gone wrong by repeating


@pytest.mark.parametrize("status", [502, 503, 504])
def test_a_gateway_error_is_retried_once(reseller, httpserver, status):
    httpserver.expect_ordered_request(SUGGEST).respond_with_data("", status=status)
    httpserver.expect_ordered_request(SUGGEST).respond_with_json(answer(HEAD))

    suggestions = directory_suggest(query="северный", reseller=reseller)

    httpserver.check_assertions()
    assert [s.inn for s in suggestions] == ["7704943188"]
    assert len(httpserver.log) == 2


def test_a_gateway_error_twice_gives_up_after_one_retry(reseller, httpserver, directory_log):
    httpserver.expect_request(SUGGEST).respond_with_data(
        "", status=503, headers={"Retry-After": "120"}
    )

    assert directory_suggest(query="северный", reseller=reseller) == []

    assert len(httpserver.log) == 2  # and Retry-After was not waited for
    assert_one_warning(directory_log, "HTTP 503")


@pytest.mark.parametrize("status", [400, 401, 403, 404, 429, 500])
def test_client_errors_and_500_are_not_retried(reseller, httpserver, status):
    httpserver.expect_request(SUGGEST).respond_with_data("", status=status)

    assert directory_suggest(query="северный", reseller=reseller) == []

    assert len(httpserver.log) == 1


def test_a_refused_connection_is_retried_once(reseller, short_timeouts, caplog):
    reseller.autofill_url = closed_port_url()
    caplog.set_level(logging.WARNING)

    assert directory_suggest(query="северный", reseller=reseller) == []

    retries = [r for r in caplog.records if r.name.startswith("urllib3") and "Retrying" in r.msg]
    assert len(retries) == 1


def test_the_retry_policy_is_bounded_and_skips_reads_and_4xx():
    assert (RETRY.total, RETRY.connect, RETRY.read, RETRY.status, RETRY.other) == (1, 1, 0, 1, 0)
    assert set(RETRY.status_forcelist) == {502, 503, 504}
    assert RETRY.respect_retry_after_header is False


# The cache


def test_a_repeated_query_is_answered_from_the_cache(reseller, httpserver):
    httpserver.expect_request(SUGGEST).respond_with_json(answer(HEAD))

    first = directory_suggest(query="северный", reseller=reseller)
    second = directory_suggest(query="северный", reseller=reseller)

    assert first == second and len(first) == 1
    assert len(httpserver.log) == 1


def test_the_cache_tells_queries_counts_methods_and_keys_apart(reseller, httpserver):
    httpserver.expect_request(SUGGEST).respond_with_json(answer(HEAD))
    httpserver.expect_request(FIND_BY_ID).respond_with_json(answer(HEAD))

    directory_suggest(query="северный", reseller=reseller)
    directory_suggest(query="северный", count=3, reseller=reseller)
    directory_suggest(query="ветер", reseller=reseller)
    directory_find_by_id(inn_or_ogrn="северный", reseller=reseller)
    reseller.autofill_api_key = "another-key"
    directory_suggest(query="северный", reseller=reseller)

    assert len(httpserver.log) == 5


def test_the_cache_expires(reseller, httpserver, settings):
    settings.DIRECTORY_CACHE_SECONDS = 0  # Django: 0 means "do not keep"
    httpserver.expect_request(SUGGEST).respond_with_json(answer(HEAD))

    directory_suggest(query="северный", reseller=reseller)
    directory_suggest(query="северный", reseller=reseller)

    assert len(httpserver.log) == 2


def test_a_failure_is_not_cached(reseller, httpserver):
    httpserver.expect_ordered_request(SUGGEST).respond_with_data("", status=500)
    httpserver.expect_ordered_request(SUGGEST).respond_with_json(answer(HEAD))

    assert directory_suggest(query="северный", reseller=reseller) == []
    assert len(directory_suggest(query="северный", reseller=reseller)) == 1
    assert len(httpserver.log) == 2
