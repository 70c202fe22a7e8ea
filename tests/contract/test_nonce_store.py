"""NonceStore contract: a nonce is accepted once per scope within its time to live.

Backends are harnesses: the store, and a way to make time pass for it (the memory
store reads an injected clock; a Redis store would shorten its keys' TTLs)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from datetime import timedelta

import attrs
import pytest

from adapters.outbound.memory import FrozenClock, InMemoryNonceStore
from core.ports.security import NonceStore
from tests.contract.backends_redis import redis_nonces


@attrs.frozen
class NonceHarness:
    store: NonceStore
    pass_time: Callable[[float], Awaitable[None]]
    """Let this many seconds go by, as far as the store can tell."""


NonceBackend = Callable[[], AbstractAsyncContextManager[NonceHarness]]


@asynccontextmanager
async def memory_nonces() -> AsyncIterator[NonceHarness]:
    clock = FrozenClock()

    async def pass_time(seconds: float) -> None:
        clock.advance(timedelta(seconds=seconds))

    yield NonceHarness(InMemoryNonceStore(clock), pass_time)


NONCE_BACKENDS: dict[str, NonceBackend] = {
    "memory": memory_nonces,
    "redis": lambda: redis_nonces(NonceHarness),
}


@pytest.fixture(params=list(NONCE_BACKENDS), ids=list(NONCE_BACKENDS))
async def nonces(request: pytest.FixtureRequest) -> AsyncIterator[NonceHarness]:
    async with NONCE_BACKENDS[request.param]() as harness:
        yield harness


async def test_a_nonce_is_accepted_the_first_time_only(nonces: NonceHarness) -> None:
    first = await nonces.store.remember("scheduler", "n-8f3a", 300)
    again = await nonces.store.remember("scheduler", "n-8f3a", 300)

    assert (first, again) == (True, False)


async def test_scopes_and_nonces_are_independent(nonces: NonceHarness) -> None:
    store = nonces.store
    assert await store.remember("scheduler", "n-1", 300) is True

    assert await store.remember("partner", "n-1", 300) is True
    assert await store.remember("scheduler", "n-2", 300) is True
    assert await store.remember("scheduler", "n-1", 300) is False


async def test_a_nonce_is_forgotten_when_its_time_to_live_ends(nonces: NonceHarness) -> None:
    store = nonces.store
    await store.remember("scheduler", "n-1", 60)

    await nonces.pass_time(59)
    assert await store.remember("scheduler", "n-1", 60) is False
    await nonces.pass_time(2)
    assert await store.remember("scheduler", "n-1", 60) is True
    assert await store.remember("scheduler", "n-1", 60) is False


async def test_a_refused_replay_does_not_extend_the_time_to_live(nonces: NonceHarness) -> None:
    store = nonces.store
    await store.remember("scheduler", "n-1", 60)
    await nonces.pass_time(50)
    assert await store.remember("scheduler", "n-1", 60) is False

    await nonces.pass_time(11)

    assert await store.remember("scheduler", "n-1", 60) is True


async def test_of_concurrent_deliveries_of_one_nonce_exactly_one_is_accepted(
    nonces: NonceHarness,
) -> None:
    results = await asyncio.gather(
        *(nonces.store.remember("scheduler", "n-race", 300) for _ in range(10))
    )

    assert sorted(results) == [False] * 9 + [True]


async def test_seen_tells_whether_a_nonce_is_remembered_and_remembers_nothing(
    nonces: NonceHarness,
) -> None:
    store = nonces.store
    assert await store.seen("telegram-update", "77") is False
    assert await store.seen("telegram-update", "77") is False
    assert await store.remember("telegram-update", "77", 60) is True

    assert await store.seen("telegram-update", "77") is True
    assert await store.seen("partner", "77") is False
    await nonces.pass_time(61)
    assert await store.seen("telegram-update", "77") is False
