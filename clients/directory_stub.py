"""A stand-in for DaData's party API, for development and tests.

It serves ``POST /suggestions/api/4_1/rs/suggest/party`` and
``POST /suggestions/api/4_1/rs/findById/party`` from a bundled data set of
made-up companies (``directory_stub_data.json``) in DaData's own answer
shape, so a reseller whose ``autofill_url`` is ``http://127.0.0.1:8001`` gets
suggestions with no key and no network. It takes no key: an Authorization
header, if sent, is ignored.

``manage.py directory_stub`` runs it in the foreground; tests call
``start_stub()`` for one on an ephemeral port in a background thread.
"""

from __future__ import annotations

import json
import logging
import threading
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from clients.directory import API_ROOT, MAX_COUNT

logger = logging.getLogger("clients.directory_stub")

DATA_PATH = Path(__file__).with_name("directory_stub_data.json")
DEFAULT_COUNT = 10
MAX_BODY_BYTES = 64 * 1024


def load_parties(path: Path = DATA_PATH) -> list[dict[str, Any]]:
    """The bundled records: DaData suggestions, each ``{"value", "unrestricted_value", "data"}``."""
    return json.loads(path.read_text(encoding="utf-8"))["suggestions"]


def stub_suggest(parties: list[dict[str, Any]], *, query: str, count: int) -> list[dict[str, Any]]:
    """Records whose name, INN or OGRN contains the query, in any letter case."""
    needle = query.strip().casefold()
    if not needle:
        return []
    found = []
    for party in parties:
        data = party["data"]
        name = data.get("name") or {}
        haystack = [
            party.get("value"),
            name.get("full_with_opf"),
            name.get("short_with_opf"),
            name.get("full"),
            name.get("short"),
            data.get("inn"),
            data.get("ogrn"),
        ]
        if any(needle in text.casefold() for text in haystack if isinstance(text, str)):
            found.append(party)
    return found[:count]


def stub_find_by_id(
    parties: list[dict[str, Any]], *, query: str, kpp: str | None, count: int
) -> list[dict[str, Any]]:
    """Records with exactly this INN or OGRN, and this KPP when one is given."""
    number = query.strip()
    found = [
        party
        for party in parties
        if number in (party["data"].get("inn"), party["data"].get("ogrn"))
        and (not kpp or party["data"].get("kpp") == kpp)
    ]
    return found[:count]


class StubServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(
        self, address: tuple[str, int], *, parties: list[dict[str, Any]], quiet: bool
    ) -> None:
        self.parties = parties
        self.quiet = quiet
        super().__init__(address, DirectoryStubHandler)

    @property
    def base_url(self) -> str:
        """What a reseller's ``autofill_url`` should be to use this server."""
        host, port = self.server_address[:2]
        return f"http://{host}:{port}"


class DirectoryStubHandler(BaseHTTPRequestHandler):
    server: StubServer
    protocol_version = "HTTP/1.1"

    def do_POST(self) -> None:
        methods = {
            f"{API_ROOT}/suggest/party": self.suggest,
            f"{API_ROOT}/findById/party": self.find_by_id,
        }
        handler = methods.get(self.path.split("?", 1)[0])
        if handler is None:
            self.answer(HTTPStatus.NOT_FOUND, {"message": "Unknown method"})
            return
        try:
            length = int(self.headers.get("Content-Length") or 0)
        except ValueError:
            length = -1
        if not 0 < length <= MAX_BODY_BYTES:
            self.answer(HTTPStatus.BAD_REQUEST, {"message": "A JSON body is required"})
            return
        try:
            body = json.loads(self.rfile.read(length))
        except ValueError:
            self.answer(HTTPStatus.BAD_REQUEST, {"message": "The body is not valid JSON"})
            return
        if not isinstance(body, dict) or not isinstance(body.get("query"), str):
            self.answer(HTTPStatus.BAD_REQUEST, {"message": "The query must be a string"})
            return
        count = body.get("count", DEFAULT_COUNT)
        if not isinstance(count, int) or isinstance(count, bool):
            self.answer(HTTPStatus.BAD_REQUEST, {"message": "The count must be a number"})
            return
        suggestions = handler(body, min(max(count, 1), MAX_COUNT))
        self.answer(HTTPStatus.OK, {"suggestions": suggestions})

    def do_GET(self) -> None:
        self.answer(HTTPStatus.METHOD_NOT_ALLOWED, {"message": "Use POST"})

    def suggest(self, body: dict[str, Any], count: int) -> list[dict[str, Any]]:
        return stub_suggest(self.server.parties, query=body["query"], count=count)

    def find_by_id(self, body: dict[str, Any], count: int) -> list[dict[str, Any]]:
        kpp = body.get("kpp") if isinstance(body.get("kpp"), str) else None
        return stub_find_by_id(self.server.parties, query=body["query"], kpp=kpp, count=count)

    def answer(self, status: HTTPStatus, payload: dict[str, Any]) -> None:
        content = json.dumps(payload, ensure_ascii=False).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("Content-Length", str(len(content)))
        self.end_headers()
        self.wfile.write(content)

    def log_message(self, format: str, *args: Any) -> None:
        if not self.server.quiet:
            logger.info("%s %s", self.address_string(), format % args)


def make_stub_server(
    host: str = "127.0.0.1",
    port: int = 0,
    *,
    parties: list[dict[str, Any]] | None = None,
    quiet: bool = True,
) -> StubServer:
    """A bound, not yet serving stub; port 0 picks a free port."""
    return StubServer(
        (host, port), parties=load_parties() if parties is None else parties, quiet=quiet
    )


def start_stub(
    host: str = "127.0.0.1",
    port: int = 0,
    *,
    parties: list[dict[str, Any]] | None = None,
    quiet: bool = True,
) -> StubServer:
    """A stub serving in a daemon thread.

    Stop it with ``server.shutdown()`` and then ``server.server_close()``.
    """
    server = make_stub_server(host, port, parties=parties, quiet=quiet)
    threading.Thread(target=server.serve_forever, name="directory-stub", daemon=True).start()
    return server
