"""Where the server may send a request for a reseller: the autofill URL's target.

A reseller's autofill (directory) URL makes this server post to it, with the
API key. Pointed at an internal address (the database on 127.0.0.1:5432, the
cloud's metadata service on 169.254.169.254, a cache on [::1]:6379) it would
make the panel a way into the internal network and hand the key over in
clear. So the URL must use https, and every address its host resolves to,
IPv4 and IPv6, must be public: not loopback, private, link-local, multicast,
reserved, unspecified or otherwise not globally reachable (``ipaddress``'s
``is_global``). An IPv6 address that carries an IPv4 one (IPv4-mapped, 6to4,
Teredo) must pass with the IPv4 one as well.

It is checked twice: when an admin saves the URL (``validate_autofill_url``,
a model-field validator, so admin shows the message beside the field) and on
every call (``outbound_target`` in ``clients/directory.py``), because a name
can resolve elsewhere later. The call then connects to an address this check
returned, never resolving the name again, so a name that changes its answer
between the check and the connection (DNS rebinding) gains nothing.

``DIRECTORY_ALLOW_PRIVATE_NETWORKS`` (on in DEBUG) keeps a development
installation working with the local stand-in (``manage.py directory_stub``):
loopback and private addresses are accepted, and so is http to them. A public
address always needs https.

Hand-written on the standard library's ``ipaddress``: the one library that
wraps requests for this (advocate) has had no release since 2020.
"""

from __future__ import annotations

import ipaddress
import socket
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import dataclass
from urllib.parse import urlsplit

from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

# How long an admin's save waits for the host name to resolve; a call waits
# only as long as its own deadline leaves.
SAVE_RESOLVE_SECONDS = 5.0

# getaddrinfo() takes no timeout: it runs here so that a caller can stop
# waiting. A lookup that hangs keeps its worker until the resolver gives up,
# so a few workers are enough and hung lookups cannot pile up threads.
_resolver = ThreadPoolExecutor(max_workers=4, thread_name_prefix="outbound-resolve")


@dataclass(frozen=True, slots=True)
class OutboundTarget:
    """A checked URL: where a request to it may connect."""

    scheme: str
    host: str  # lower case, without the brackets of an IPv6 literal
    port: int
    addresses: tuple[IPAddress, ...]  # every address the host resolved to, in resolver order


def outbound_target(
    url: str, *, allow_private: bool | None = None, timeout: float = SAVE_RESOLVE_SECONDS
) -> OutboundTarget:
    """Check a URL the server is about to post to and return where it may connect.

    Raises ``ValidationError`` (each message for people, naming the host and
    the address) when the scheme is not https (or http to a private address
    with ``allow_private``), the host cannot be resolved within ``timeout``
    seconds, or any address it resolves to is not public.
    ``allow_private`` defaults to ``DIRECTORY_ALLOW_PRIVATE_NETWORKS``.
    """
    if allow_private is None:
        allow_private = settings.DIRECTORY_ALLOW_PRIVATE_NETWORKS
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError as error:
        raise ValidationError(_("Enter a valid URL."), code="invalid") from error
    scheme = parts.scheme.lower()
    host = (parts.hostname or "").rstrip(".")
    if scheme not in {"https", "http"}:
        raise ValidationError(
            _("The autofill service URL must start with https://."), code="scheme"
        )
    if not host:
        raise ValidationError(_("Enter a valid URL."), code="invalid")
    port = port or (443 if scheme == "https" else 80)
    addresses = _resolve(host, port, timeout=timeout)

    problems = []
    refusals = [(address, refusal_reason(address)) for address in addresses]
    all_private = all(reason is not None for _address, reason in refusals)
    if scheme == "http" and not (allow_private and all_private):
        problems.append(
            ValidationError(
                _(
                    "The autofill service URL must start with https://: "
                    "the API key must not travel in clear."
                ),
                code="scheme",
            )
        )
    refused = [(address, reason) for address, reason in refusals if reason is not None]
    if refused and not allow_private:
        address, reason = refused[0]
        if _is_literal(host):
            message = _(
                "The autofill service URL must lead to a public address: “%(address)s” is "
                "%(reason)s."
            )
        else:
            message = _(
                "The autofill service URL must lead to a public address: “%(host)s” resolves "
                "to “%(address)s”, %(reason)s."
            )
        problems.append(
            ValidationError(
                message,
                code="not_public",
                params={"host": host, "address": str(address), "reason": reason},
            )
        )
    if problems:
        raise ValidationError(problems)
    return OutboundTarget(scheme=scheme, host=host, port=port, addresses=addresses)


def validate_autofill_url(value: str) -> None:
    """Model-field validator of ``Reseller.autofill_url``: see the module's docstring.

    A URL that does not even parse is left to ``URLValidator``, which says so
    already."""
    if not value.strip():
        return
    try:
        outbound_target(value)
    except ValidationError as error:
        problems = [problem for problem in error.error_list if problem.code != "invalid"]
        if problems:
            raise ValidationError(problems) from None


def refusal_reason(address: IPAddress) -> Promise | None:
    """Why a request must not go to this address, or None for a public one.

    An IPv4-mapped IPv6 address (``::ffff:127.0.0.1``) is the IPv4 address
    itself; one that carries an IPv4 address for a relay (6to4, Teredo) must
    pass with both."""
    mapped = address.ipv4_mapped if address.version == 6 else None
    candidates = (mapped,) if mapped is not None else (address, *_embedded_ipv4(address))
    for candidate in candidates:
        for test, reason in _REFUSALS:
            if test(candidate):
                return reason
    return None


_REFUSALS = (
    (lambda a: a.is_unspecified, _("an unspecified address")),
    (lambda a: a.is_loopback, _("a loopback address")),
    (lambda a: a.is_link_local, _("a link-local address")),
    (lambda a: a.is_multicast, _("a multicast address")),
    (lambda a: a.is_private, _("a private network address")),
    (lambda a: a.is_reserved, _("a reserved address")),
    (lambda a: not a.is_global, _("not a public address")),
)


def _embedded_ipv4(address: IPAddress) -> list[ipaddress.IPv4Address]:
    if address.version != 6:
        return []
    embedded = [address.sixtofour, *(address.teredo or ())]
    return [item for item in embedded if item is not None]


def _is_literal(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


def _resolve(host: str, port: int, *, timeout: float) -> tuple[IPAddress, ...]:
    if _is_literal(host):
        return (ipaddress.ip_address(host),)
    unresolved = ValidationError(
        _("The host name “%(host)s” cannot be resolved."),
        code="unresolved",
        params={"host": host},
    )
    future = _resolver.submit(socket.getaddrinfo, host, port, type=socket.SOCK_STREAM)
    try:
        infos = future.result(timeout=max(timeout, 0.0))
    except FutureTimeout:
        raise ValidationError(
            _("The host name “%(host)s” did not resolve in time."),
            code="unresolved",
            params={"host": host},
        ) from None
    except (OSError, UnicodeError):  # socket.gaierror is an OSError
        raise unresolved from None
    addresses = dict.fromkeys(
        ipaddress.ip_address(info[4][0])
        for info in infos
        if info[0] in (socket.AF_INET, socket.AF_INET6)
    )
    if not addresses:
        raise unresolved
    return tuple(addresses)
