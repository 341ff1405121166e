"""Every directory call checks where it goes, and goes only there.

A URL saved before the check existed, or a name that resolves elsewhere
later, must not make the server post the API key to an internal address.
Each refused call reports the directory as unavailable and logs why, and no
connection reaches the loopback servers listening at those addresses.
"""

import logging
import socket

import pytest
from django.core.cache import cache
from pytest_httpserver import HTTPServer
from werkzeug import Response

from clients.directory import directory_suggest_answer
from clients.directory_stub import start_stub

PUBLIC_ADDRESS = "93.184.215.14"  # a global address; the refused calls never connect


class Listener:
    """A TCP port on loopback that counts the connections made to it."""

    def __init__(self, host: str) -> None:
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        self.socket = socket.create_server((host, 0), family=family)
        self.socket.setblocking(False)
        self.port = self.socket.getsockname()[1]

    def connections(self) -> int:
        count = 0
        while True:
            try:
                connection, _address = self.socket.accept()
            except BlockingIOError:
                return count
            connection.close()
            count += 1

    def close(self) -> None:
        self.socket.close()


@pytest.fixture(autouse=True)
def empty_cache():
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def private_off(settings):
    settings.DIRECTORY_ALLOW_PRIVATE_NETWORKS = False


@pytest.fixture
def listeners():
    opened = {host: Listener(host) for host in ("127.0.0.1", "::1")}
    yield opened
    for listener in opened.values():
        listener.close()


class Names:
    """Host names of our own, each with its answers in turn (the last one
    repeats), and every look-up of them; other names resolve as usual."""

    def __init__(self) -> None:
        self.answers: dict[str, list[list[str]]] = {}
        self.asked: list[str] = []

    def getaddrinfo(self, real, host, port, *args, **kwargs):
        if host not in self.answers:
            return real(host, port, *args, **kwargs)
        self.asked.append(host)
        answers = self.answers[host]
        addresses = answers.pop(0) if len(answers) > 1 else answers[0]
        return [
            (
                socket.AF_INET6 if ":" in address else socket.AF_INET,
                socket.SOCK_STREAM,
                6,
                "",
                (address, port),
            )
            for address in addresses
        ]


@pytest.fixture
def names(monkeypatch) -> Names:
    table = Names()
    real = socket.getaddrinfo
    monkeypatch.setattr(
        socket, "getaddrinfo", lambda *args, **kwargs: table.getaddrinfo(real, *args, **kwargs)
    )
    return table


@pytest.fixture
def reseller(root_reseller):
    # Not saved: a URL from before the save-time check, or edited in the
    # database, is what the call-time check is for.
    root_reseller.autofill_enabled = True
    root_reseller.autofill_api_key = "secret-api-key"
    return root_reseller


def warnings_of(caplog) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.name == "clients.directory"]


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("http://127.0.0.1:{v4}", "“127.0.0.1” is a loopback address"),
        ("https://127.0.0.1:{v4}", "“127.0.0.1” is a loopback address"),
        ("http://[::1]:{v6}", "“::1” is a loopback address"),
        ("https://localhost:{v4}", "“localhost” resolves to “127.0.0.1”, a loopback address"),
        ("https://127.1:{v4}", "“127.1” resolves to “127.0.0.1”, a loopback address"),
        ("https://[::ffff:127.0.0.1]:{v4}", "“::ffff:127.0.0.1” is a loopback address"),
        ("https://0.0.0.0:{v4}", "“0.0.0.0” is an unspecified address"),
        ("http://169.254.169.254/latest/meta-data/", "a link-local address"),
        ("ftp://127.0.0.1:{v4}/", "must start with https://"),
    ],
)
def test_a_call_to_an_internal_address_is_refused_before_connecting(
    reseller, private_off, listeners, caplog, url, reason
):
    caplog.set_level(logging.WARNING, logger="clients.directory")
    reseller.autofill_url = url.format(v4=listeners["127.0.0.1"].port, v6=listeners["::1"].port)

    answer = directory_suggest_answer(query="северный", reseller=reseller)

    assert (answer.available, answer.suggestions) == (False, [])
    assert listeners["127.0.0.1"].connections() == 0
    assert listeners["::1"].connections() == 0
    [message] = warnings_of(caplog)
    assert "refused" in message and reason in message
    assert "secret-api-key" not in message


def test_a_name_that_now_resolves_inside_is_refused(reseller, private_off, listeners, names):
    # Saved when it pointed outside; the name has moved since.
    names.answers["directory.test"] = [["127.0.0.1"]]
    reseller.autofill_url = f"https://directory.test:{listeners['127.0.0.1'].port}"

    answer = directory_suggest_answer(query="северный", reseller=reseller)

    assert answer.available is False
    assert listeners["127.0.0.1"].connections() == 0


def test_http_to_a_public_address_is_refused_even_for_development(reseller, names, caplog):
    caplog.set_level(logging.WARNING, logger="clients.directory")
    names.answers["directory.test"] = [[PUBLIC_ADDRESS]]
    reseller.autofill_url = "http://directory.test"

    answer = directory_suggest_answer(query="северный", reseller=reseller)

    assert answer.available is False
    [message] = warnings_of(caplog)
    assert "must start with https://" in message


def test_the_call_connects_to_the_address_it_checked(reseller, names):
    """DNS rebinding: the name answers one address to the check and another
    to any later look-up. The request goes to the checked one, with the name
    kept in the Host header, and nothing reaches the other."""
    server = HTTPServer(host="127.0.0.1")
    server.start()
    other = socket.create_server(("127.0.0.2", server.port))
    other.setblocking(False)
    try:
        hosts = []

        def handler(request):
            hosts.append(request.headers["Host"])
            return Response('{"suggestions": []}', content_type="application/json")

        server.expect_request("/suggestions/api/4_1/rs/suggest/party").respond_with_handler(handler)
        names.answers["directory.test"] = [["127.0.0.1"], ["127.0.0.2"]]
        reseller.autofill_url = f"http://directory.test:{server.port}"

        answer = directory_suggest_answer(query="северный", reseller=reseller)

        assert answer.available is True
        assert hosts == [f"directory.test:{server.port}"]
        assert names.asked == ["directory.test"]  # resolved once, by the check
        with pytest.raises(BlockingIOError):
            other.accept()
    finally:
        other.close()
        server.clear()
        server.stop()


def test_with_private_networks_allowed_the_local_stub_answers(reseller, settings):
    settings.DIRECTORY_ALLOW_PRIVATE_NETWORKS = True
    stub = start_stub()
    try:
        reseller.autofill_url = stub.base_url  # http://127.0.0.1:<port>

        answer = directory_suggest_answer(query="северный", reseller=reseller)
    finally:
        stub.shutdown()
        stub.server_close()

    assert answer.available is True
    assert any(suggestion.inn == "7704943188" for suggestion in answer.suggestions)
