"""Token buckets in Redis, shared by every web process.

One Lua script reads the bucket, refills it for the time passed, takes the tokens
and writes it back: Redis runs a script atomically, so racing processes can never
both spend the last token. Time is Redis's own (``TIME``), not the callers', so
processes whose clocks disagree still share one consistent bucket.

Tests of the bucket arithmetic may inject a clock of their own (microseconds), so
that no real time passes between two hits; production never does.

A look (``cost=0``) writes nothing: the stored tokens and time already say what
the bucket holds. A bucket is a hash ``{tokens, at}`` (``at`` in microseconds of Redis time) under a
prefixed key that expires once the bucket would be full again: an expired bucket and
a full one are the same thing, so memory holds only buckets in use.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from decimal import Decimal
from fractions import Fraction

from redis.asyncio import Redis

from adapters.outbound.breaker import CircuitBreaker
from adapters.outbound.redis.client import guarded, lua_now, redis_breaker
from core.ports.security import RateDecision

__all__ = ["BUCKET_LUA", "DEFAULT_PREFIX", "RedisRateLimiter"]

DEFAULT_PREFIX = "paygate:rate:"

BUCKET_LUA = (
    lua_now(5)
    + """
local capacity = tonumber(ARGV[1])
local per_second = tonumber(ARGV[2])
local cost = tonumber(ARGV[3])
local ttl_ms = tonumber(ARGV[4])
local state = redis.call('HMGET', KEYS[1], 'tokens', 'at')
local tokens = tonumber(state[1])
local at = tonumber(state[2])
if tokens == nil or at == nil then
  tokens = capacity
  at = now
end
local elapsed = now - at
if elapsed < 0 then
  elapsed = 0
end
tokens = math.min(capacity, tokens + elapsed * per_second / 1000000)
local needed = math.max(cost, 1)
local allowed = 0
local retry_us = 0
if tokens >= needed then
  tokens = tokens - cost
  allowed = 1
else
  retry_us = math.ceil((needed - tokens) * 1000000 / per_second)
end
if cost > 0 then
  redis.call('HSET', KEYS[1], 'tokens', string.format('%.17g', tokens), 'at', now)
  redis.call('PEXPIRE', KEYS[1], ttl_ms)
end
return {allowed, math.floor(tokens), retry_us}
"""
)


class RedisRateLimiter:
    """Implements RateLimiter: one bucket of ``capacity`` tokens per key, refilled at
    ``refill_per_second``. Raises Unavailable when Redis cannot answer (the caller
    chooses between a local fallback and a refusal)."""

    def __init__(
        self,
        client: Redis,
        capacity: int,
        refill_per_second: float | Decimal | Fraction,
        *,
        prefix: str = DEFAULT_PREFIX,
        breaker: CircuitBreaker | None = None,
        clock: Callable[[], int] | None = None,
    ) -> None:
        """``clock``: microseconds since the epoch, for tests; None uses Redis ``TIME``."""
        if capacity < 1:
            raise ValueError("a bucket holds at least one token")
        rate = float(refill_per_second)
        if not rate > 0 or math.isinf(rate):
            raise ValueError("the refill rate must be positive")
        if not prefix:
            raise ValueError("Redis keys of PayGate are prefixed")
        self._client = client
        self._capacity = capacity
        self._rate = rate
        self._prefix = prefix
        self._breaker = breaker or redis_breaker()
        self._clock = clock
        # Until the bucket is full again, plus a second so a key never expires while
        # the script could still read it as partly empty.
        self._ttl_ms = math.ceil(capacity / rate * 1000) + 1000
        self._script = client.register_script(BUCKET_LUA)

    async def hit(self, key: str, cost: int = 1) -> RateDecision:
        if not 0 <= cost <= self._capacity:
            raise ValueError(f"a hit costs 0..{self._capacity} tokens, got {cost}")
        args: list[int | str] = [self._capacity, repr(self._rate), cost, self._ttl_ms]
        if self._clock is not None:
            args.append(self._clock())

        async def run() -> list[int]:
            reply = await self._script(keys=[self._prefix + key], args=args)
            return [int(value) for value in reply]

        allowed, remaining, retry_us = await guarded(self._breaker, "rate limit", run)
        return RateDecision(
            allowed=bool(allowed),
            limit=self._capacity,
            remaining=max(0, remaining),
            retry_after=retry_us / 1_000_000,
        )
