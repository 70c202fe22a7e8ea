"""The in-memory rate limiter stays bounded and exact."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest

from adapters.outbound.memory import FrozenClock, InMemoryRateLimiter


async def test_buckets_idle_long_enough_to_be_full_are_dropped() -> None:
    clock = FrozenClock()
    limiter = InMemoryRateLimiter(clock, capacity=4, refill_per_second=2)
    for n in range(50):
        await limiter.hit(f"ip:{n}")
    clock.advance(timedelta(seconds=2))

    decision = await limiter.hit("ip:new")

    assert len(limiter) == 1
    assert decision.remaining == 3


async def test_past_the_key_limit_the_least_recently_used_bucket_goes() -> None:
    clock = FrozenClock()
    limiter = InMemoryRateLimiter(clock, capacity=1, refill_per_second=0.001, max_keys=2)
    await limiter.hit("a")
    await limiter.hit("b")
    await limiter.hit("a")  # "b" is now the least recently used

    await limiter.hit("c")

    assert len(limiter) == 2
    assert (await limiter.hit("a")).allowed is False
    assert (await limiter.hit("b")).allowed is True


async def test_looks_at_keys_without_a_bucket_keep_no_bucket() -> None:
    limiter = InMemoryRateLimiter(FrozenClock(), capacity=3, refill_per_second=1)
    for n in range(20):
        decision = await limiter.hit(f"webhook:{n}", cost=0)
        assert (decision.allowed, decision.remaining) == (True, 3)

    assert len(limiter) == 0
    await limiter.hit("webhook:7")
    assert (await limiter.hit("webhook:7", cost=0)).remaining == 2
    assert len(limiter) == 1


async def test_decimal_rates_refill_exactly() -> None:
    clock = FrozenClock()
    limiter = InMemoryRateLimiter(clock, capacity=1, refill_per_second=Decimal("0.1"))
    await limiter.hit("k")

    clock.advance(timedelta(seconds=10))

    assert (await limiter.hit("k")).allowed is True


@pytest.mark.parametrize("cost", [-1, 4])
async def test_a_cost_outside_zero_to_capacity_is_refused(cost: int) -> None:
    limiter = InMemoryRateLimiter(FrozenClock(), capacity=3, refill_per_second=1)

    with pytest.raises(ValueError, match="costs"):
        await limiter.hit("k", cost=cost)
