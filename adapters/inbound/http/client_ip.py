"""Who the client is: the socket peer, or what our own proxies say it is.

``X-Forwarded-For`` is written by whoever sent the request, so only the entries our
trusted proxies appended can be believed. Each proxy appends the address it received
the connection from, so the list is read right to left: the socket peer first, then
each entry, skipping addresses of trusted proxies; the first address that is not a
trusted proxy is the client. Anything to its left was written by the client itself
and is ignored, however plausible it looks.

With no trusted proxies configured (the default) the header is never read at all.
Addresses are compared as addresses, not text: IPv4-mapped IPv6 (``::ffff:1.2.3.4``)
is the IPv4 address, zone ids are dropped, and CIDRs match with :mod:`ipaddress`.

Behind a proxy that is not listed, every client is the proxy: one rate-limit bucket
for everyone. In production the first request that shows it (forwarding headers from
a peer we do not trust) is logged once, with the setting that fixes it.
"""

from __future__ import annotations

import functools
import ipaddress
import logging
from collections.abc import Iterable, Sequence

import attrs
from aiohttp import web
from aiohttp.typedefs import Handler, Middleware

__all__ = [
    "CLIENT_IP",
    "IPAddress",
    "IPNetwork",
    "TrustedProxies",
    "client_ip_middleware",
    "client_ip_of",
    "limit_key",
    "normalise",
    "parse_address",
    "parse_networks",
    "resolve_client_ip",
]

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network

logger = logging.getLogger(__name__)

CLIENT_IP = web.RequestKey("paygate.client_ip", str)
"""The client's address as text (``"unknown"`` when the socket has none)."""

UNKNOWN = "unknown"
MAX_HOPS = 32
"""Forwarded entries read at most; a longer chain than this is not ours."""
IPV6_LIMIT_PREFIX = 64
"""An IPv6 client is limited by its /64: the smallest block a provider hands one
subscriber, in which one host can take a new address for every request."""
FORWARDING_HEADERS = ("X-Forwarded-For", "Forwarded")


def normalise(address: IPAddress) -> IPAddress:
    """IPv4-mapped IPv6 becomes IPv4; an IPv6 zone id is dropped."""
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped is not None:
            return address.ipv4_mapped
        if address.scope_id is not None:
            return ipaddress.IPv6Address(int(address))
    return address


@functools.lru_cache(maxsize=4096)
def parse_address(text: str) -> IPAddress | None:
    """An address as found in a socket or a forwarded entry (``1.2.3.4``,
    ``1.2.3.4:5678``, ``2001:db8::1``, ``[2001:db8::1]:443``), or None.

    Remembered for the last few thousand texts: the same peers and proxies come back
    on every request, and parsing is a good part of what resolving an IP costs. The
    bound keeps forged header entries from growing it."""
    text = text.strip()
    if text.startswith("["):
        host, bracket, _ = text[1:].partition("]")
        text = host if bracket else ""
    elif text.count(":") == 1:
        text = text.partition(":")[0]  # IPv4 with a port
    try:
        return normalise(ipaddress.ip_address(text))
    except ValueError:
        return None


def parse_networks(text: str, name: str = "networks") -> tuple[IPNetwork, ...]:
    """A comma- or space-separated list of CIDRs or bare addresses. Raises ValueError
    naming ``name`` (e.g. the environment variable) and the bad entry."""
    networks: list[IPNetwork] = []
    for entry in text.replace(",", " ").split():
        try:
            network = ipaddress.ip_network(entry, strict=False)
        except ValueError:
            raise ValueError(f"{name}: {entry!r} is not an IP network or address") from None
        mapped = (
            network.network_address.ipv4_mapped
            if isinstance(network, ipaddress.IPv6Network)
            else None
        )
        if mapped is not None and network.prefixlen >= 96:
            # ::ffff:10.0.0.0/104 means 10.0.0.0/8: addresses are matched normalised.
            network = ipaddress.IPv4Network(f"{mapped}/{network.prefixlen - 96}")
        networks.append(network)
    return tuple(networks)


def contains(networks: Iterable[IPNetwork], address: IPAddress) -> bool:
    return any(address.version == n.version and address in n for n in networks)


@attrs.frozen
class TrustedProxies:
    """``PAYGATE_TRUSTED_PROXIES``: the networks of our own reverse proxies."""

    networks: tuple[IPNetwork, ...] = ()

    @classmethod
    def parse(cls, text: str, name: str = "PAYGATE_TRUSTED_PROXIES") -> TrustedProxies:
        return cls(parse_networks(text, name))

    def trusts(self, address: IPAddress) -> bool:
        return contains(self.networks, address)


def _forwarded_entries(headers: Sequence[str]) -> list[str]:
    # Several X-Forwarded-For headers are one list, in order (RFC 9110 field lines).
    return [entry for header in headers for entry in header.split(",")]


def resolve_client_ip(
    peer: str | None, forwarded_for: Sequence[str], proxies: TrustedProxies
) -> IPAddress | None:
    """The client's address; None when the socket has no IP peer (a Unix socket)."""
    address = parse_address(peer) if peer else None
    if address is None or not proxies.trusts(address):
        return address
    entries = _forwarded_entries(forwarded_for)
    for entry in reversed(entries[-MAX_HOPS:]):
        hop = parse_address(entry)
        if hop is None:
            # A trusted proxy wrote something we cannot read: the nearest address we
            # can vouch for is the proxy's own.
            return address
        address = hop
        if not proxies.trusts(address):
            return address
    # Every hop is one of ours (an internal caller): the furthest one is the client.
    return address


def client_ip_of(request: web.Request) -> str:
    """The address the middleware settled on for ``request``."""
    address: str = request.get(CLIENT_IP, UNKNOWN)
    return address


@functools.lru_cache(maxsize=4096)
def limit_key(client_ip: str) -> str:
    """Whom a rate limit counts ``client_ip`` (as :func:`client_ip_of` gives it) as:
    an IPv4 address itself, an IPv6 address its /64 (``2001:db8:1:2::/64``).
    Remembered for the last few thousand clients, like :func:`parse_address`."""
    address = parse_address(client_ip)
    if isinstance(address, ipaddress.IPv6Address):
        return str(ipaddress.IPv6Network((address, IPV6_LIMIT_PREFIX), strict=False))
    return client_ip


class ForwardingWarning:
    """Logs, once per process, that a peer we do not trust as a proxy sent forwarding
    headers: either a reverse proxy missing from ``PAYGATE_TRUSTED_PROXIES`` (every
    client behind it then shares the proxy's rate-limit bucket) or a client writing
    them itself (ignored, as they should be)."""

    def __init__(self) -> None:
        self.warned = False

    def notice(self, request: web.Request, peer: IPAddress | None, proxies: TrustedProxies) -> None:
        headers = [name for name in FORWARDING_HEADERS if name in request.headers]
        if not headers:
            return
        self.warned = True
        listed = (
            "PAYGATE_TRUSTED_PROXIES is not set"
            if not proxies.networks
            else "it is not in PAYGATE_TRUSTED_PROXIES"
        )
        logger.warning(
            "a request from %s carried %s, but %s, so the header is ignored and %s is the "
            "client. If PayGate runs behind a reverse proxy or load balancer, every client "
            "now shares that proxy's rate-limit bucket: set PAYGATE_TRUSTED_PROXIES to the "
            "proxy's addresses or network (e.g. PAYGATE_TRUSTED_PROXIES=10.0.0.0/8). "
            "Logged once per process.",
            UNKNOWN if peer is None else peer,
            " and ".join(headers),
            listed,
            UNKNOWN if peer is None else peer,
        )


def client_ip_middleware(proxies: TrustedProxies, warn_untrusted: bool = False) -> Middleware:
    """Stores the client's address on the request (:data:`CLIENT_IP`). With
    ``warn_untrusted`` (production), forwarding headers from a peer that is not a
    trusted proxy are logged once (:class:`ForwardingWarning`)."""
    warning = ForwardingWarning() if warn_untrusted else None

    @web.middleware
    async def middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
        forwarded = request.headers.getall("X-Forwarded-For", []) if proxies.networks else []
        address = resolve_client_ip(request.remote, forwarded, proxies)
        request[CLIENT_IP] = UNKNOWN if address is None else str(address)
        if warning is not None and not warning.warned:
            peer = parse_address(request.remote) if request.remote else None
            if peer is None or not proxies.trusts(peer):
                warning.notice(request, peer, proxies)
        return await handler(request)

    return middleware
