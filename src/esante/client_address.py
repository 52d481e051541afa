"""The client's address, resolved once per request.

`ClientAddressMiddleware` sets `request.client_ip` (None when unknown) at the start of
every request, from REMOTE_ADDR or, behind the proxies named in ESANTE_TRUSTED_PROXIES,
from X-Forwarded-For (docs/operations.md). Views pass it on as `ip_address=`: actions take
the address, never the request. Code below the views that holds a request (the rate
limits, the security log) reads the same value with `of(request)`.

This module is on the lowest floor: it imports no app of the project.
"""

from __future__ import annotations

import functools
import ipaddress
from collections.abc import Callable
from typing import cast

from django.conf import settings
from django.http import HttpRequest, HttpResponse

# The prefix under which a per-IP rule counts IPv6 addresses together: a /64 is what one
# subscriber gets at the least (RFC 6177), and a host picks any address in it (RFC 8981).
IPV6_BLOCK_PREFIX = 64


class ClientRequest(HttpRequest):
    """A request that went through ClientAddressMiddleware (every request of the site)."""

    client_ip: str | None


class ClientAddressMiddleware:
    """Resolves the client's address once, as `request.client_ip`."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        cast(ClientRequest, request).client_ip = resolve(request) or None
        return self.get_response(request)


def of(request: HttpRequest) -> str | None:
    """`request.client_ip`; resolved here for a request that skipped the middleware (a
    test's RequestFactory), and kept on it, so that it is resolved once all the same."""
    client_request = cast(ClientRequest, request)
    if not hasattr(client_request, "client_ip"):
        client_request.client_ip = resolve(request) or None
    return client_request.client_ip


def resolve(request: HttpRequest) -> str:
    """The client's address: REMOTE_ADDR, or behind the proxies named in
    ESANTE_TRUSTED_PROXIES, the right-most address of X-Forwarded-For that is not one of
    them. The header is read only when the request comes from a trusted proxy, and only
    the entries that trusted proxies appended count: whatever a client sends itself is
    to their left (docs/operations.md)."""
    remote = str(request.META.get("REMOTE_ADDR", ""))
    proxies = _trusted_proxies(tuple(settings.ESANTE_TRUSTED_PROXIES))
    if not proxies or not _is_trusted(remote, proxies):
        return remote
    hops = str(request.META.get("HTTP_X_FORWARDED_FOR", "")).split(",")
    for hop in reversed([each.strip() for each in hops if each.strip()]):
        try:
            address = ipaddress.ip_address(hop)
        except ValueError:
            return remote  # not appended by a proxy of ours: stop at the last sure one
        if not any(address in network for network in proxies):
            return str(address)
    return remote


@functools.cache
def _trusted_proxies(
    networks: tuple[str, ...],
) -> tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]:
    return tuple(ipaddress.ip_network(each, strict=False) for each in networks)


def _is_trusted(
    remote: str, proxies: tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]
) -> bool:
    try:
        address = ipaddress.ip_address(remote)
    except ValueError:
        return False
    return any(address in network for network in proxies)


def address_block(address: str) -> str:
    """What a per-IP rule counts for `address`: an IPv6 address as its /64 (so that a
    host cannot get a fresh budget from each of its addresses), an IPv4 address — or one
    mapped into IPv6 — as itself; anything else as it comes. Only for counting: the logs
    and the audit log keep the full address (client_ip)."""
    try:
        parsed = ipaddress.ip_address(address)
    except ValueError:
        return address
    if isinstance(parsed, ipaddress.IPv6Address):
        if parsed.ipv4_mapped is not None:
            return str(parsed.ipv4_mapped)
        return str(ipaddress.IPv6Network((parsed, IPV6_BLOCK_PREFIX), strict=False))
    return str(parsed)
