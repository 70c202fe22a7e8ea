"""RateLimiter contract: token buckets per key, with the figures a 429 answer shows.

Backends are harnesses: a way to make a limiter of a given capacity and refill rate,
and a way to make time pass for it (the memory limiter reads an injected clock)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from datetime import timedelta

import attrs
import pytest

from adapters.outbound.memory import FrozenClock, InMemoryRateLimiter
from core.ports.security import RateDecision, RateLimiter
from tests.contract.backends_redis import redis_limiters


@attrs.frozen
class LimiterHarness:
    make: Callable[[int, float], RateLimiter]
    """A limiter with buckets of ``capacity`` tokens refilled at ``per_second``."""
    pass_time: Callable[[float], Awaitable[None]]
    """Let this many seconds go by, as far as the limiters can tell."""


LimiterBackend = Callable[[], AbstractAsyncContextManager[LimiterHarness]]


@asynccontextmanager
async def memory_limiters() -> AsyncIterator[LimiterHarness]:
    clock = FrozenClock()

    def make(capacity: int, per_second: float) -> RateLimiter:
        return InMemoryRateLimiter(clock, capacity, per_second)

    async def pass_time(seconds: float) -> None:
        clock.advance(timedelta(seconds=seconds))

    yield LimiterHarness(make, pass_time)


LIMITER_BACKENDS: dict[str, LimiterBackend] = {
    "memory": memory_limiters,
    "redis": lambda: redis_limiters(LimiterHarness),
}


@pytest.fixture(params=list(LIMITER_BACKENDS), ids=list(LIMITER_BACKENDS))
async def limiters(request: pytest.FixtureRequest) -> AsyncIterator[LimiterHarness]:
    async with LIMITER_BACKENDS[request.param]() as harness:
        yield harness


def _seconds(value: float) -> object:
    # Backends may count in milliseconds.
    return pytest.approx(value, abs=0.002)


async def test_a_fresh_bucket_allows_its_capacity_counting_down(limiters: LimiterHarness) -> None:
    limiter = limiters.make(3, 0.5)

    decisions = [await limiter.hit("ip:203.0.113.7") for _ in range(3)]

    assert [d.allowed for d in decisions] == [True, True, True]
    assert [d.remaining for d in decisions] == [2, 1, 0]
    assert [d.limit for d in decisions] == [3, 3, 3]
    assert [d.retry_after for d in decisions] == [0, 0, 0]


async def test_an_empty_bucket_refuses_and_says_when_to_come_back(
    limiters: LimiterHarness,
) -> None:
    limiter = limiters.make(3, 0.5)
    for _ in range(3):
        await limiter.hit("ip:203.0.113.7")

    refused = await limiter.hit("ip:203.0.113.7")

    assert (refused.allowed, refused.limit, refused.remaining) == (False, 3, 0)
    assert refused.retry_after == _seconds(2.0)


async def test_a_refused_hit_takes_nothing_and_one_token_returns_after_retry_after(
    limiters: LimiterHarness,
) -> None:
    limiter = limiters.make(2, 1.0)
    await limiter.hit("user:7")
    await limiter.hit("user:7")
    for _ in range(3):
        assert (await limiter.hit("user:7")).allowed is False

    await limiters.pass_time(1.0)

    assert (await limiter.hit("user:7")).allowed is True
    assert (await limiter.hit("user:7")).allowed is False


async def test_keys_have_buckets_of_their_own(limiters: LimiterHarness) -> None:
    limiter = limiters.make(1, 0.1)

    assert (await limiter.hit("user:1")).allowed is True
    assert (await limiter.hit("user:1")).allowed is False
    assert (await limiter.hit("user:2")).allowed is True


async def test_a_costly_hit_takes_several_tokens(limiters: LimiterHarness) -> None:
    limiter = limiters.make(5, 1.0)

    first = await limiter.hit("export", cost=3)
    second = await limiter.hit("export", cost=3)

    assert (first.allowed, first.remaining) == (True, 2)
    assert (second.allowed, second.remaining) == (False, 2)
    assert second.retry_after == _seconds(1.0)


async def test_a_look_takes_nothing_and_tells_whether_a_hit_would_pass(
    limiters: LimiterHarness,
) -> None:
    limiter = limiters.make(2, 1.0)

    fresh = await limiter.hit("ip:203.0.113.7", cost=0)
    await limiter.hit("ip:203.0.113.7")
    one_left = await limiter.hit("ip:203.0.113.7", cost=0)
    await limiter.hit("ip:203.0.113.7")
    empty = await limiter.hit("ip:203.0.113.7", cost=0)
    await limiters.pass_time(0.5)
    half_a_token = await limiter.hit("ip:203.0.113.7", cost=0)
    await limiters.pass_time(0.5)
    refilled = await limiter.hit("ip:203.0.113.7")

    assert (fresh.allowed, fresh.remaining) == (True, 2)
    assert (one_left.allowed, one_left.remaining) == (True, 1)
    assert (empty.allowed, empty.remaining) == (False, 0)
    assert empty.retry_after == _seconds(1.0)
    assert (half_a_token.allowed, half_a_token.retry_after) == (False, _seconds(0.5))
    # Looks took nothing: one token came back in one second, and the hit takes it.
    assert (refilled.allowed, refilled.remaining) == (True, 0)


async def test_a_partial_refill_is_not_yet_a_token(limiters: LimiterHarness) -> None:
    limiter = limiters.make(1, 2.0)
    await limiter.hit("user:7")

    await limiters.pass_time(0.25)
    early = await limiter.hit("user:7")
    await limiters.pass_time(0.25)
    on_time = await limiter.hit("user:7")

    assert early.allowed is False
    assert early.retry_after == _seconds(0.25)
    assert on_time.allowed is True


async def test_an_idle_bucket_refills_only_up_to_its_capacity(limiters: LimiterHarness) -> None:
    limiter = limiters.make(2, 1.0)
    await limiter.hit("user:7")
    await limiters.pass_time(3600)

    decisions = [await limiter.hit("user:7") for _ in range(3)]

    assert [(d.allowed, d.remaining) for d in decisions] == [(True, 1), (True, 0), (False, 0)]


async def test_a_bucket_never_holds_more_than_its_capacity(limiters: LimiterHarness) -> None:
    limiter = limiters.make(3, 1.0)
    await limiter.hit("user:7")
    await limiters.pass_time(2.5)  # 2 + 2.5 tokens, but the bucket holds 3

    decisions = [await limiter.hit("user:7") for _ in range(4)]

    assert [(d.allowed, d.remaining) for d in decisions] == [
        (True, 2),
        (True, 1),
        (True, 0),
        (False, 0),
    ]


async def test_concurrent_hits_never_overdraw_a_bucket(limiters: LimiterHarness) -> None:
    limiter = limiters.make(5, 0.01)

    decisions: list[RateDecision] = list(
        await asyncio.gather(*(limiter.hit("ip:198.51.100.1") for _ in range(12)))
    )

    assert sum(d.allowed for d in decisions) == 5
    assert sorted(d.remaining for d in decisions if d.allowed) == [0, 1, 2, 3, 4]
