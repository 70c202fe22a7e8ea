"""What the Redis adapters add to their ports' contracts: buckets and nonces shared
by every process, Redis's own clock, prefixed keys that expire, and fast failure
when Redis is gone."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator

import pytest
from redis.asyncio import Redis

from adapters.outbound.breaker import CircuitOpen
from adapters.outbound.redis import (
    RedisNonceStore,
    RedisProbe,
    RedisRateLimiter,
    connect_redis,
)
from core.ports.errors import Unavailable
from tests.services import REDIS_URL

pytestmark = pytest.mark.redis


@pytest.fixture
async def other_client(client: Redis) -> AsyncIterator[Redis]:
    """A second connection pool: another web process, as far as Redis can tell."""
    other = connect_redis(REDIS_URL, timeout=2.0)
    yield other
    await other.aclose()


async def test_two_processes_share_one_bucket(
    client: Redis, other_client: Redis, prefix: str
) -> None:
    one = RedisRateLimiter(client, 3, 0.01, prefix=prefix)
    two = RedisRateLimiter(other_client, 3, 0.01, prefix=prefix)

    decisions = [await one.hit("ip:1"), await two.hit("ip:1"), await one.hit("ip:1")]
    refused = await two.hit("ip:1")

    assert [d.remaining for d in decisions] == [2, 1, 0]
    assert (refused.allowed, refused.remaining) == (False, 0)


async def test_concurrent_hits_from_two_processes_never_overdraw(
    client: Redis, other_client: Redis, prefix: str
) -> None:
    limiters = [RedisRateLimiter(c, 10, 0.01, prefix=prefix) for c in (client, other_client)]

    decisions = await asyncio.gather(*(limiters[i % 2].hit("ip:2") for i in range(50)))

    assert sum(d.allowed for d in decisions) == 10


async def test_buckets_refill_by_redis_time(client: Redis, prefix: str) -> None:
    limiter = RedisRateLimiter(client, 2, 10.0, prefix=prefix)
    await limiter.hit("ip:3")
    await limiter.hit("ip:3")
    refused = await limiter.hit("ip:3")

    await asyncio.sleep(0.25)  # 2.5 tokens' worth, capped at the capacity of 2
    after = [await limiter.hit("ip:3") for _ in range(3)]

    assert refused.allowed is False
    assert 0 < refused.retry_after <= 0.1
    assert [d.allowed for d in after] == [True, True, False]


async def test_bucket_keys_are_prefixed_and_expire_once_full_again(
    client: Redis, prefix: str
) -> None:
    limiter = RedisRateLimiter(client, 5, 1.0, prefix=prefix)
    await limiter.hit("webhook:198.51.100.7")

    keys = [key async for key in client.scan_iter(match=f"{prefix}*")]
    ttl = await client.pttl(f"{prefix}webhook:198.51.100.7")

    assert keys == [f"{prefix}webhook:198.51.100.7".encode()]
    # Five seconds to fill again, plus a second of margin.
    assert 5000 < ttl <= 6000


async def test_a_nonce_key_is_prefixed_and_lives_for_its_ttl(client: Redis, prefix: str) -> None:
    store = RedisNonceStore(client, prefix=prefix)
    await store.remember("telegram-update", "900001", 120)

    keys = [key async for key in client.scan_iter(match=f"{prefix}*")]

    assert keys == [f"{prefix}15:telegram-update:900001".encode()]
    assert 119_000 < await client.pttl(keys[0]) <= 120_000


async def test_scopes_cannot_be_confused_through_separators(client: Redis, prefix: str) -> None:
    store = RedisNonceStore(client, prefix=prefix)

    assert await store.remember("a:b", "c", 60) is True
    assert await store.remember("a", "b:c", 60) is True


async def test_two_processes_racing_on_one_nonce_accept_it_once(
    client: Redis, other_client: Redis, prefix: str
) -> None:
    stores = [RedisNonceStore(c, prefix=prefix) for c in (client, other_client)]

    results = await asyncio.gather(*(stores[i % 2].remember("s", "n", 60) for i in range(20)))

    assert sorted(results) == [False] * 19 + [True]


async def test_the_probe_answers_when_redis_does(client: Redis) -> None:
    await RedisProbe(client)()


@pytest.fixture
async def dead() -> AsyncIterator[Redis]:
    client = connect_redis("redis://127.0.0.1:1/0")
    yield client
    await client.aclose()


async def test_a_dead_redis_fails_fast_then_the_breaker_refuses_without_trying(
    dead: Redis,
) -> None:
    limiter = RedisRateLimiter(dead, 5, 1.0)
    failures: list[type[BaseException]] = []
    started = time.perf_counter()
    for _ in range(6):
        with pytest.raises(Unavailable) as error:
            await limiter.hit("ip:9")
        failures.append(type(error.value))
    elapsed = time.perf_counter() - started

    assert failures[:3] == [Unavailable] * 3
    assert failures[3:] == [CircuitOpen] * 3
    assert elapsed < 1.0


async def test_a_dead_redis_is_unavailable_to_the_nonce_store_and_the_probe(dead: Redis) -> None:
    with pytest.raises(Unavailable):
        await RedisNonceStore(dead).remember("s", "n", 60)
    with pytest.raises(Unavailable):
        await RedisProbe(dead)()
