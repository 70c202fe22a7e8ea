"""Redis backends of the NonceStore and RateLimiter contract suites.

Each harness gets a client of its own on ``tests.services.REDIS_URL`` and a key
prefix no other test uses; every key under it is deleted when the harness closes.
Nonces expire by Redis's own key TTLs, so letting time pass for the nonce store
shortens those TTLs (a key whose TTL runs out is deleted, as Redis would). Rate
limiters read an injected clock that only the suite moves, so real time spent
between two hits cannot blur the millisecond figures the suite checks.

The suites' harness classes are passed in (``redis_nonces(NonceHarness)``), so this
module needs nothing from the suites and the suites import it without a cycle.
"""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import TypeVar

from redis.asyncio import Redis

from adapters.outbound.redis import RedisNonceStore, RedisRateLimiter, connect_redis
from core.ports.security import NonceStore, RateLimiter
from tests.services import REDIS_URL, require_redis

H = TypeVar("H")
PassTime = Callable[[float], Awaitable[None]]


def unique_prefix() -> str:
    return f"paygate:test:{secrets.token_hex(6)}:"


@asynccontextmanager
async def redis_client(prefix: str) -> AsyncIterator[Redis]:
    """A client that deletes every key under ``prefix`` when done (skips, or fails
    under CI, without a Redis server)."""
    require_redis()
    client = connect_redis(REDIS_URL, timeout=2.0)
    try:
        yield client
    finally:
        keys = [key async for key in client.scan_iter(match=f"{prefix}*", count=500)]
        if keys:
            await client.delete(*keys)
        await client.aclose()


async def _shorten_ttls(client: Redis, prefix: str, seconds: float) -> list[bytes]:
    """Take ``seconds`` off every key's TTL, deleting those that run out; returns the
    keys still alive."""
    alive: list[bytes] = []
    delta = round(seconds * 1000)
    async for key in client.scan_iter(match=f"{prefix}*", count=500):
        left = await client.pttl(key)
        if left < 0:
            continue
        if left - delta <= 0:
            await client.delete(key)
        else:
            await client.pexpire(key, left - delta)
            alive.append(key)
    return alive


@asynccontextmanager
async def redis_nonces(harness: Callable[[NonceStore, PassTime], H]) -> AsyncIterator[H]:
    prefix = unique_prefix()
    async with redis_client(prefix) as client:

        async def pass_time(seconds: float) -> None:
            await _shorten_ttls(client, prefix, seconds)

        yield harness(RedisNonceStore(client, prefix=prefix), pass_time)


@asynccontextmanager
async def redis_limiters(
    harness: Callable[[Callable[[int, float], RateLimiter], PassTime], H],
) -> AsyncIterator[H]:
    prefix = unique_prefix()
    async with redis_client(prefix) as client:
        # The contract checks the bucket arithmetic to the millisecond: the limiters
        # read a clock that moves only when the suite says so, as the memory one
        # does. Redis's own TIME is covered by tests/contract/redis.
        now = [1_772_366_400_000_000]
        made = 0

        def make(capacity: int, per_second: float) -> RateLimiter:
            nonlocal made
            made += 1
            # Each limiter its own namespace, as two route classes would have.
            return RedisRateLimiter(
                client, capacity, per_second, prefix=f"{prefix}{made}:", clock=lambda: now[0]
            )

        async def pass_time(seconds: float) -> None:
            now[0] += round(seconds * 1_000_000)

        yield harness(make, pass_time)
