"""A directory that never finishes its answer: each call has a total deadline.

The servers here are real, on loopback: they read the request and then send
their answer one byte every 0.2 s, which no per-read timeout ever catches.
The whole answer would take about 45 s; the call must give up at its deadline
(DIRECTORY_TOTAL_TIMEOUT) and report the directory as unavailable.
"""

import json
import logging
import shutil
import socket
import ssl
import subprocess
import threading
import time

import pytest
from django.core.cache import cache

from clients import directory_transport
from clients.directory import directory_find_by_id, directory_suggest_answer

TRICKLE_SECONDS = 0.2


class TricklingServer:
    """Accepts connections on 127.0.0.1 and sends ``answer`` one byte at a time."""

    def __init__(self, answer: bytes, *, pause: float = TRICKLE_SECONDS) -> None:
        self.answer = answer
        self.pause = pause
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.stop = threading.Event()
        self.connections = 0
        self.bytes_sent = 0
        self.finished_at: float | None = None
        self.thread = threading.Thread(target=self.serve, daemon=True)
        self.thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def full_answer_seconds(self) -> float:
        return len(self.answer) * self.pause

    def serve(self) -> None:
        self.listener.settimeout(0.1)
        while not self.stop.is_set():
            try:
                connection, _address = self.listener.accept()
            except TimeoutError:
                continue
            self.connections += 1
            with connection:
                self.read_request(connection)
                for byte in self.answer:
                    if self.stop.wait(self.pause):
                        break
                    try:
                        connection.sendall(bytes([byte]))
                    except OSError:  # the client hung up: what a deadline does
                        break
                    self.bytes_sent += 1
            self.finished_at = time.monotonic()

    @staticmethod
    def read_request(connection: socket.socket) -> None:
        data = b""
        while b"\r\n\r\n" not in data:
            data += connection.recv(65536)
        head, _, body = data.partition(b"\r\n\r\n")
        length = 0
        for line in head.split(b"\r\n"):
            name, _, value = line.partition(b":")
            if name.strip().lower() == b"content-length":
                length = int(value)
        while len(body) < length:
            body += connection.recv(65536)

    def close(self) -> None:
        self.stop.set()
        self.thread.join(5)
        self.listener.close()


def http_answer(body: bytes, *, content_length: bool = True) -> bytes:
    head = b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
    if content_length:
        head += b"Content-Length: %d\r\n" % len(body)
    else:
        head += b"Connection: close\r\n"
    return head + b"\r\n" + body


# A valid answer with no suggestions, padded so that it takes about 45 s to trickle.
BODY = json.dumps({"suggestions": [], "padding": "x" * 120}).encode()


@pytest.fixture(autouse=True)
def empty_cache():
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def deadline(settings):
    settings.DIRECTORY_TOTAL_TIMEOUT = 1.5
    settings.DIRECTORY_CONNECT_TIMEOUT = 0.5
    settings.DIRECTORY_READ_TIMEOUT = 0.8  # longer than the trickle's pauses
    return settings.DIRECTORY_TOTAL_TIMEOUT


@pytest.fixture
def trickle(request):
    servers = []

    def start(answer: bytes, **options) -> TricklingServer:
        server = TricklingServer(answer, **options)
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.close()


@pytest.fixture
def reseller(root_reseller):
    # Not saved: the directory client reads the settings from the object.
    root_reseller.autofill_enabled = True
    root_reseller.autofill_api_key = "key"
    return root_reseller


def directory_warnings(caplog) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.name == "clients.directory"]


@pytest.mark.parametrize(
    "answer",
    [
        pytest.param(http_answer(BODY), id="body-with-length"),
        pytest.param(http_answer(BODY, content_length=False), id="body-until-close"),
        pytest.param(http_answer(BODY)[:5] + b" " * 200, id="status-line-and-headers"),
    ],
)
def test_a_trickling_directory_is_dropped_at_the_deadline(
    reseller, deadline, trickle, caplog, answer
):
    caplog.set_level(logging.WARNING, logger="clients.directory")
    server = trickle(answer)
    reseller.autofill_url = server.url
    assert server.full_answer_seconds >= 30

    started = time.monotonic()
    result = directory_suggest_answer(query="северный", reseller=reseller)
    elapsed = time.monotonic() - started

    assert result.available is False
    assert result.suggestions == []
    # A functional bound, not a speed target: without a total deadline the
    # call lasts as long as the trickle (about 45 s); with one it ends near
    # 1.5 s. 10 s leaves room for a busy machine.
    assert elapsed < 10
    assert server.connections == 1  # nothing retried after the deadline
    [message] = directory_warnings(caplog)
    assert f"no complete answer within {deadline} s" in message
    # The connection was closed on the server too, long before its answer ended.
    for _ in range(50):
        if server.finished_at is not None:
            break
        time.sleep(0.1)
    assert server.finished_at is not None
    assert server.bytes_sent < len(answer) // 2


def test_the_deadline_covers_find_by_id_and_is_not_cached(reseller, deadline, trickle):
    server = trickle(http_answer(BODY))
    reseller.autofill_url = server.url

    assert directory_find_by_id(inn_or_ogrn="7704943188", reseller=reseller) == []
    assert directory_find_by_id(inn_or_ogrn="7704943188", reseller=reseller) == []

    assert server.connections == 2  # the dropped answer was not kept


def test_a_slow_answer_that_ends_in_time_is_used(reseller, deadline, trickle, settings):
    # A trickle that ends before the deadline: a slow but finite directory
    # still answers, byte by byte.
    settings.DIRECTORY_TOTAL_TIMEOUT = 10
    answer = http_answer(b'{"suggestions": []}')
    server = trickle(answer, pause=0.02)
    reseller.autofill_url = server.url

    result = directory_suggest_answer(query="северный", reseller=reseller)

    assert result.available is True
    # The client may return on the last byte before the server thread counts
    # it: wait for the server to finish its answer before counting.
    waited = time.monotonic() + 5
    while server.finished_at is None and time.monotonic() < waited:
        time.sleep(0.01)
    assert server.bytes_sent == len(answer)


# Over TLS: the same deadline, and the certificate still checked against the name


@pytest.fixture
def tls(tmp_path, monkeypatch):
    """A certificate for "localhost" that the directory client trusts, and a
    server context with it. The client is made anew to read the bundle."""
    if shutil.which("openssl") is None:
        pytest.skip("openssl is needed to make a test certificate")
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(
        [
            *("openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1"),
            *("-keyout", str(key), "-out", str(cert), "-subj", "/CN=localhost"),
            *("-addext", "subjectAltName=DNS:localhost"),
        ],
        check=True,
        capture_output=True,
    )
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(cert))
    monkeypatch.setattr(directory_transport._local, "session", None)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    return context


class TlsTricklingServer(TricklingServer):
    def __init__(self, answer: bytes, *, context: ssl.SSLContext, **options) -> None:
        self.context = context
        super().__init__(answer, **options)

    @property
    def url(self) -> str:
        return f"https://localhost:{self.port}"  # the name the certificate carries

    def serve(self) -> None:
        inner = self.listener
        self.listener = self.context.wrap_socket(inner, server_side=True)
        super().serve()


def test_over_tls_a_trickle_is_dropped_and_a_whole_answer_used(
    reseller, deadline, trickle, tls, caplog
):
    caplog.set_level(logging.WARNING, logger="clients.directory")
    fast = TlsTricklingServer(http_answer(b'{"suggestions": []}'), context=tls, pause=0)
    slow = TlsTricklingServer(http_answer(BODY), context=tls)
    try:
        reseller.autofill_url = fast.url
        whole = directory_suggest_answer(query="северный", reseller=reseller)
        reseller.autofill_url = slow.url
        started = time.monotonic()
        trickled = directory_suggest_answer(query="северный", reseller=reseller)
        elapsed = time.monotonic() - started
    finally:
        fast.close()
        slow.close()

    assert whole.available is True  # the certificate matched "localhost"
    assert trickled.available is False
    assert elapsed < 10  # the trickle would take about 45 s (see above)
    assert f"no complete answer within {deadline} s" in directory_warnings(caplog)[-1]
