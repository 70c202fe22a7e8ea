"""Token buckets in process memory (the embedded default; Redis when scaled out)."""

from __future__ import annotations

import math
from collections import OrderedDict
from datetime import datetime, timedelta
from decimal import Decimal
from fractions import Fraction

import attrs

from core.ports.clock import Clock
from core.ports.security import RateDecision

DEFAULT_MAX_KEYS = 100_000


@attrs.define
class _Bucket:
    tokens: Fraction
    updated_at: datetime


def _exact(rate: float | Decimal | Fraction) -> Fraction:
    # str() of a float is the short decimal it was written as (0.1, not 0.1000000000000000055).
    return Fraction(str(rate)) if isinstance(rate, float) else Fraction(rate)


def _seconds_between(earlier: datetime, later: datetime) -> Fraction:
    """Exact seconds from ``earlier`` to ``later``; zero if the clock was set back."""
    elapsed = max(later - earlier, timedelta(0))
    micros = elapsed // timedelta(microseconds=1)
    return Fraction(micros, 1_000_000)


class InMemoryRateLimiter:
    """Implements RateLimiter: one bucket of ``capacity`` tokens per key, refilled at
    ``refill_per_second``, paced by the injected clock. Token arithmetic is exact
    (fractions), so a bucket is full again exactly when the arithmetic says so.

    Memory stays bounded: a bucket untouched long enough to be full again is the same
    as no bucket and is dropped; past ``max_keys`` buckets the least recently used
    one is dropped, which only ever hands that key a full bucket a little early."""

    def __init__(
        self,
        clock: Clock,
        capacity: int,
        refill_per_second: float | Decimal | Fraction,
        max_keys: int = DEFAULT_MAX_KEYS,
    ) -> None:
        if capacity < 1:
            raise ValueError("a bucket holds at least one token")
        rate = _exact(refill_per_second)
        if rate <= 0:
            raise ValueError("the refill rate must be positive")
        if max_keys < 1:
            raise ValueError("the limiter tracks at least one key")
        self._clock = clock
        self._capacity = capacity
        self._rate = rate
        self._max_keys = max_keys
        self._seconds_to_fill = Fraction(capacity) / rate
        self._buckets: OrderedDict[str, _Bucket] = OrderedDict()

    async def hit(self, key: str, cost: int = 1) -> RateDecision:
        if not 0 <= cost <= self._capacity:
            raise ValueError(f"a hit costs 0..{self._capacity} tokens, got {cost}")
        now = self._clock.now()
        self._drop_full(now)
        if cost == 0 and key not in self._buckets:
            # A look at a full bucket changes nothing, and no bucket is a full one:
            # webhooks look on every request and are charged only when they fail.
            return RateDecision(
                allowed=True, limit=self._capacity, remaining=self._capacity, retry_after=0.0
            )
        bucket = self._buckets.pop(key, None)
        tokens = Fraction(self._capacity) if bucket is None else self._refilled(bucket, now)
        needed = max(cost, 1)  # a look (cost 0) is allowed while a token is left
        if tokens >= needed:
            tokens -= cost
            allowed, retry_after = True, Fraction(0)
        else:
            allowed, retry_after = False, (needed - tokens) / self._rate
        if len(self._buckets) >= self._max_keys:
            self._buckets.popitem(last=False)
        self._buckets[key] = _Bucket(tokens, now)
        return RateDecision(
            allowed=allowed,
            limit=self._capacity,
            remaining=math.floor(tokens),
            retry_after=float(retry_after),
        )

    def _refilled(self, bucket: _Bucket, now: datetime) -> Fraction:
        gained = _seconds_between(bucket.updated_at, now) * self._rate
        return min(Fraction(self._capacity), bucket.tokens + gained)

    def _drop_full(self, now: datetime) -> None:
        # Least recently touched first: once one was touched too recently to be surely
        # full again, so were all after it.
        while self._buckets:
            key, oldest = next(iter(self._buckets.items()))
            if _seconds_between(oldest.updated_at, now) < self._seconds_to_fill:
                return
            del self._buckets[key]

    def __len__(self) -> int:
        return len(self._buckets)
