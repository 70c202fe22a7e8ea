"""How many connections the HTTP edge holds, and for how long.

A connection costs a file descriptor whether or not it ever sends a request. Left to
aiohttp's defaults, a peer may open thousands, send a header line every few seconds
or a body one byte at a time, and keep them for an hour, until the process cannot
accept the provider's notifications any more. So every connection is bounded:

* in time: its first request head must be complete within the header timeout (here,
  by watching for the blank line that ends it); a connection with no complete request
  within the keep-alive timeout, idle or trickling, is closed by aiohttp's keep-alive
  timer; a body must arrive within the body timeout (``body.read_body``);
* in number: at most ``max_connections`` at once, at most ``max_per_client`` from one
  address (IPv6: one /64), and the last ``reserved`` slots only for peers that carry
  signed webhooks: our trusted proxies and the providers' published sender ranges.
  A refused connection is closed at once, before aiohttp sees it.

Refusals are logged at most once per interval, with how many there were, so a flood
of them never floods the log.
"""

from __future__ import annotations

import asyncio
import ipaddress
import logging
import time
from collections import Counter
from collections.abc import Callable, Iterable

import attrs

from adapters.inbound.http.client_ip import IPAddress, IPNetwork, contains, parse_address
from adapters.inbound.http.metrics import HttpMetrics

__all__ = [
    "ConnectionGuard",
    "ConnectionLimits",
    "PacedLog",
    "fit_to_descriptors",
    "refusal_log",
]

logger = logging.getLogger(__name__)

_HEAD_END = b"\r\n\r\n"
DESCRIPTOR_HEADROOM = 128
"""File descriptors kept for everything but client connections: the database pool,
Redis, outgoing HTTP sessions, log files."""


def _at_least_one(_: object, attribute: attrs.Attribute[int], value: int) -> None:
    if value < 1:
        raise ValueError(f"{attribute.name} must be at least 1")


def _seconds(_: object, attribute: attrs.Attribute[float], value: float) -> None:
    if not 0 < value <= 3600:  # also refuses nan and inf
        raise ValueError(f"{attribute.name} must be seconds in (0, 3600]")


@attrs.frozen
class ConnectionLimits:
    max_connections: int = attrs.field(default=1000, validator=_at_least_one)
    max_per_client: int = attrs.field(default=64, validator=_at_least_one)
    reserved: int = attrs.field(default=100)
    """Of ``max_connections``, the slots only webhook carriers may take."""
    header_timeout: float = attrs.field(default=10.0, validator=_seconds)
    body_timeout: float = attrs.field(default=15.0, validator=_seconds)
    keepalive_timeout: float = attrs.field(default=15.0, validator=_seconds)

    @reserved.validator
    def _check_reserved(self, _: attrs.Attribute[int], value: int) -> None:
        if not 0 <= value < self.max_connections:
            raise ValueError("reserved must be in 0..max_connections-1")


def fit_to_descriptors(limits: ConnectionLimits, descriptors: int) -> ConnectionLimits:
    """The limits, with the connection cap lowered (and the reserve with it) when the
    process may not open that many files next to what it needs besides."""
    room = descriptors - DESCRIPTOR_HEADROOM
    if limits.max_connections <= room:
        return limits
    total = max(1, room)
    return attrs.evolve(limits, max_connections=total, reserved=min(limits.reserved, total // 10))


class PacedLog:
    """One warning per interval at most, for events a client can cause at will: the
    first after a quiet spell at once, the ones after it counted by kind (a bounded
    set, never client text) and summed up when the interval ends."""

    def __init__(
        self,
        first: str,
        more: str,
        interval: float = 10.0,
        now: Callable[[], float] = time.monotonic,
    ) -> None:
        self._first = first
        self._more = more
        self._interval = interval
        self._now = now
        self._counts: Counter[str] = Counter()
        self._quiet_until = 0.0
        self._flush: asyncio.TimerHandle | None = None

    def note(self, kind: str, *args: object) -> None:
        """``args`` fill the first message; ``kind`` is what the summary counts."""
        now = self._now()
        if now >= self._quiet_until and not self._counts:
            logger.warning(self._first, *args)
            self._quiet_until = now + self._interval
            return
        self._counts[kind] += 1
        if self._flush is None:
            delay = max(0.0, self._quiet_until - now)
            self._flush = asyncio.get_running_loop().call_later(delay, self.flush)

    def flush(self) -> None:
        self._flush = None
        if self._counts:
            summary = ", ".join(f"{n} {kind}" for kind, n in sorted(self._counts.items()))
            logger.warning(self._more, self._counts.total(), self._interval, summary)
            self._counts.clear()
            self._quiet_until = self._now() + self._interval


def refusal_log(interval: float = 10.0, now: Callable[[], float] = time.monotonic) -> PacedLog:
    return PacedLog(
        "refused a connection from %s: %s",
        "refused %d more connections in the last %g s (%s)",
        interval,
        now,
    )


ProtocolFactory = Callable[[], asyncio.Protocol]


class ConnectionGuard:
    """A protocol factory for ``loop.create_server`` in front of aiohttp's server
    (``runner.server``): it admits or refuses each connection and watches its first
    request head."""

    def __init__(
        self,
        serve: ProtocolFactory,
        limits: ConnectionLimits,
        reserved_for: Iterable[IPNetwork] = (),
        metrics: HttpMetrics | None = None,
        refusals: PacedLog | None = None,
    ) -> None:
        self._serve = serve
        self.limits = limits
        self._reserved_for = tuple(reserved_for)
        self._metrics = metrics
        self._refusals = refusals if refusals is not None else refusal_log()
        self._by_client: Counter[str] = Counter()
        self.open = 0

    def __call__(self) -> asyncio.Protocol:
        return _GuardedConnection(self)

    def admit(self, address: IPAddress | None) -> tuple[str, str | None]:
        """The client key the connection counts under, and why it is refused (None:
        admitted, and counted until :meth:`release`)."""
        key = _client_key(address)
        limits = self.limits
        carrier = address is not None and contains(self._reserved_for, address)
        refusal: tuple[str, str] | None = None
        if self.open >= limits.max_connections:
            refusal = "total", f"{limits.max_connections} connections open, the most allowed"
        elif not carrier and self.open >= limits.max_connections - limits.reserved:
            refusal = (
                "total",
                (
                    f"{self.open} connections open; the last {limits.reserved} "
                    "are kept for webhook senders"
                ),
            )
        elif not carrier and self._by_client[key] >= limits.max_per_client:
            refusal = "per_client", f"{limits.max_per_client} connections already open"
        if refusal is not None:
            reason, why = refusal
            if self._metrics is not None:
                self._metrics.connections_refused.labels(reason).inc()
            self._refusals.note(reason, key, why)
            return key, why
        self.open += 1
        self._by_client[key] += 1
        if self._metrics is not None:
            self._metrics.connections_open.set(self.open)
        return key, None

    def release(self, key: str) -> None:
        self.open -= 1
        self._by_client[key] -= 1
        if self._by_client[key] <= 0:
            del self._by_client[key]
        if self._metrics is not None:
            self._metrics.connections_open.set(self.open)

    def serve(self) -> asyncio.Protocol:
        return self._serve()


def _client_key(address: IPAddress | None) -> str:
    if address is None:
        return "unknown"
    if isinstance(address, ipaddress.IPv6Address):
        # One host gets a whole /64: counting its addresses one by one counts nothing.
        return str(ipaddress.IPv6Network((address, 64), strict=False))
    return str(address)


class _GuardedConnection(asyncio.Protocol):
    """One connection: aiohttp's protocol inside, admitted and watched from outside."""

    def __init__(self, guard: ConnectionGuard) -> None:
        self._guard = guard
        self._inner: asyncio.Protocol | None = None
        self._transport: asyncio.Transport | None = None
        self._key: str | None = None
        self._head_timer: asyncio.TimerHandle | None = None
        self._tail = b""

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)  # a stream server's
        peer = transport.get_extra_info("peername")
        address = parse_address(str(peer[0])) if isinstance(peer, tuple) and peer else None
        key, refusal = self._guard.admit(address)
        if refusal is not None:
            transport.abort()  # frees the descriptor now; the peer sees a reset
            return
        self._key = key
        self._transport = transport
        self._head_timer = asyncio.get_running_loop().call_later(
            self._guard.limits.header_timeout, self._head_too_late
        )
        self._inner = self._guard.serve()
        self._inner.connection_made(transport)

    def _head_too_late(self) -> None:
        self._head_timer = None
        logger.debug("closed a connection whose first request head was not complete in time")
        if self._transport is not None:
            self._transport.abort()

    def data_received(self, data: bytes) -> None:
        if self._inner is None:
            return
        if self._head_timer is not None:
            # A request head ends with an empty line; aiohttp's parser takes CRLF only.
            seen = self._tail + data
            if _HEAD_END in seen:
                self._head_timer.cancel()
                self._head_timer = None
                self._tail = b""
            else:
                self._tail = seen[-3:]
        self._inner.data_received(data)

    def eof_received(self) -> bool | None:
        return self._inner.eof_received() if self._inner is not None else None

    def pause_writing(self) -> None:
        if self._inner is not None:
            self._inner.pause_writing()

    def resume_writing(self) -> None:
        if self._inner is not None:
            self._inner.resume_writing()

    def connection_lost(self, exc: Exception | None) -> None:
        if self._head_timer is not None:
            self._head_timer.cancel()
            self._head_timer = None
        if self._key is not None:
            self._guard.release(self._key)
            self._key = None
        if self._inner is not None:
            self._inner.connection_lost(exc)
