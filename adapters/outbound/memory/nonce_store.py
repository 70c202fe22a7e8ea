"""Nonces seen recently, in process memory (the embedded default; Redis when scaled out)."""

from __future__ import annotations

import heapq
import itertools
from datetime import datetime, timedelta

from core.ports.clock import Clock
from core.ports.errors import Unavailable

DEFAULT_MAX_ENTRIES = 100_000


class InMemoryNonceStore:
    """Implements NonceStore. Entries are forgotten when their time to live ends, so
    memory stays bounded by the traffic of one window.

    When ``max_entries`` live nonces are held, a new one is refused with Unavailable
    rather than making room by forgetting one early: forgetting would reopen a replay
    window, refusing only costs a retry (and the rate limiter should have stopped such
    a flood first)."""

    def __init__(self, clock: Clock, max_entries: int = DEFAULT_MAX_ENTRIES) -> None:
        if max_entries < 1:
            raise ValueError("the nonce store holds at least one entry")
        self._clock = clock
        self._max_entries = max_entries
        self._expires: dict[tuple[str, str], datetime] = {}
        self._queue: list[tuple[datetime, int, tuple[str, str]]] = []
        self._tiebreak = itertools.count()

    async def remember(self, scope: str, nonce: str, ttl_seconds: int) -> bool:
        if ttl_seconds < 1:
            raise ValueError("a nonce is remembered for at least one second")
        now = self._clock.now()
        self._forget_expired(now)
        key = (scope, nonce)
        if key in self._expires:
            return False
        if len(self._expires) >= self._max_entries:
            raise Unavailable("too many recent nonces to remember another one")
        expires = now + timedelta(seconds=ttl_seconds)
        self._expires[key] = expires
        heapq.heappush(self._queue, (expires, next(self._tiebreak), key))
        return True

    async def seen(self, scope: str, nonce: str) -> bool:
        self._forget_expired(self._clock.now())
        return (scope, nonce) in self._expires

    def _forget_expired(self, now: datetime) -> None:
        while self._queue and self._queue[0][0] <= now:
            expires, _, key = heapq.heappop(self._queue)
            if self._expires.get(key) == expires:
                del self._expires[key]

    def __len__(self) -> int:
        """Nonces held, including any whose time ran out since the last call."""
        return len(self._expires)
