"""The directory client's HTTP transport: one keep-alive session per
thread, at most one retry, and connections pinned to the address that was
checked (clients/directory.py asks through it), so that a name that
resolves again elsewhere between the check and the connect cannot redirect a
call to an internal host."""

from __future__ import annotations

import contextlib
import os
import socket
import sys
import threading
import time
from typing import Any

import requests
from requests.adapters import HTTPAdapter
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool
from urllib3.exceptions import ConnectTimeoutError, NewConnectionError
from urllib3.util.retry import Retry

from users.outbound import OutboundTarget

# The lookups are read-only, so repeating one is harmless even though it is a
# POST; still, a retry costs the operator another timeout, so there is at most
# one, and only where a second try is likely to help and cannot have been
# half-done: a connection that could not be established (nothing was sent)
# and a gateway saying the service behind it is momentarily away (502, 503,
# 504). A read timeout is not retried (the budget is already spent), nor a 500
# (the query itself probably breaks the service), nor any 4xx (a bad key or
# request stays bad). Retry-After is ignored: the page cannot wait for it.
RETRY = Retry(
    total=1,
    connect=1,
    read=0,
    redirect=0,
    status=1,
    other=0,
    allowed_methods=frozenset({"POST"}),
    status_forcelist=frozenset({502, 503, 504}),
    backoff_factor=0,
    raise_on_status=False,
    respect_retry_after_header=False,
)


_local = threading.local()


def _session() -> requests.Session:
    """A keep-alive session per thread (``requests.Session`` is not thread-safe)."""
    session = getattr(_local, "session", None)
    if session is None:
        session = requests.Session()
        # Not HTTP(S)_PROXY or .netrc from the environment: a proxy would
        # resolve the name itself, past the address check. A CA bundle named
        # there is still used, as requests would.
        session.trust_env = False
        session.verify = (
            os.environ.get("REQUESTS_CA_BUNDLE") or os.environ.get("CURL_CA_BUNDLE") or True
        )
        adapter = _PinnedAdapter(max_retries=RETRY)
        session.mount("http://", adapter)
        session.mount("https://", adapter)
        _local.session = session
    return session


class _Call:
    """One directory call in this thread: the checked target its connections
    may reach, and the deadline its watchdog enforces.

    The watchdog is a timer that, at the deadline, shuts the socket of every
    connection the call used. A read blocked on a trickling service returns
    at once, and urllib3 and requests fail or end the body; ``expired`` tells
    the caller that it was the deadline."""

    def __init__(self, *, target: OutboundTarget, deadline: float) -> None:
        self.target = target
        self.deadline = deadline
        self.expired = False
        self._connections: list[HTTPConnection] = []
        self._lock = threading.Lock()
        self._timer = threading.Timer(max(deadline - time.monotonic(), 0.0), self.expire)
        self._timer.daemon = True

    def __enter__(self) -> _Call:
        _local.call = self
        self._timer.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._timer.cancel()
        _local.call = None

    def remaining(self) -> float:
        return self.deadline - time.monotonic()

    def watch(self, connection: HTTPConnection) -> None:
        with self._lock:
            if connection not in self._connections:
                self._connections.append(connection)
            expired = self.expired
        if expired:
            _shut(connection)

    def expire(self) -> None:
        with self._lock:
            self.expired = True
            connections = list(self._connections)
        for connection in connections:
            _shut(connection)


def _shut(connection: HTTPConnection) -> None:
    sock = connection.sock
    if sock is None:
        return
    # socket.socket's own shutdown, also for a TLS socket: it ends a read
    # blocked in another thread, where SSLSocket.shutdown would first drop the
    # TLS state under that read. A socket already closed has nothing to end.
    with contextlib.suppress(OSError):
        socket.socket.shutdown(sock, socket.SHUT_RDWR)


def _current_call(connection: HTTPConnection) -> _Call:
    call: _Call | None = getattr(_local, "call", None)
    host = connection.host.strip("[]").rstrip(".").lower()
    if call is None or call.target.host != host or call.target.port != connection.port:
        raise NewConnectionError(connection, f"no checked address for {connection.host}")
    return call


class _PinnedConnectionMixin:
    """Connects to an address the call checked, never resolving the name
    again, and puts the connection under the call's watchdog."""

    pinned_address: str | None = None

    def _new_conn(self) -> socket.socket:
        call = _current_call(self)
        call.watch(self)
        error: Exception = NewConnectionError(self, "no address to connect to")
        limit = self.timeout if isinstance(self.timeout, int | float) else call.remaining()
        for address in call.target.addresses:
            timeout = min(limit, call.remaining())
            if timeout <= 0:
                raise ConnectTimeoutError(self, f"Connection to {self.host} ran out of time.")
            family = socket.AF_INET6 if address.version == 6 else socket.AF_INET
            sock = socket.socket(family, socket.SOCK_STREAM)
            try:
                for option in self.socket_options or ():
                    sock.setsockopt(*option)
                sock.settimeout(timeout)
                sock.connect((str(address), self.port))
            except TimeoutError:
                sock.close()
                error = ConnectTimeoutError(
                    self,
                    f"Connection to {self.host} ({address}) timed out. "
                    f"(connect timeout={timeout:.2f})",
                )
            except OSError as failure:
                sock.close()
                error = NewConnectionError(
                    self, f"Failed to establish a new connection to {address}: {failure}"
                )
            else:
                self.pinned_address = str(address)
                sys.audit("http.client.connect", self, self.host, self.port)
                return sock
        raise error

    def request(self, *args: Any, **kwargs: Any) -> None:
        call = _current_call(self)
        call.watch(self)
        if self.sock is not None and self.pinned_address not in {
            str(address) for address in call.target.addresses
        }:
            # A kept-alive connection to an address this call did not check:
            # reconnect rather than trust an earlier call's answer.
            self.close()
        super().request(*args, **kwargs)


class _PinnedHTTPConnection(_PinnedConnectionMixin, HTTPConnection):
    pass


class _PinnedHTTPSConnection(_PinnedConnectionMixin, HTTPSConnection):
    pass


class _PinnedHTTPConnectionPool(HTTPConnectionPool):
    ConnectionCls = _PinnedHTTPConnection


class _PinnedHTTPSConnectionPool(HTTPSConnectionPool):
    ConnectionCls = _PinnedHTTPSConnection


class _PinnedAdapter(HTTPAdapter):
    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        super().init_poolmanager(*args, **kwargs)
        self.poolmanager.pool_classes_by_scheme = {
            "http": _PinnedHTTPConnectionPool,
            "https": _PinnedHTTPSConnectionPool,
        }
