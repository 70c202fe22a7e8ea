"""SessionStore contract: dashboard sessions kept, found, forgotten after their time
to live, ended one by one or all of a user's at once; in memory, SQLite, Postgres and
Redis."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from datetime import timedelta

import attrs
import pytest

from adapters.outbound.memory import FrozenClock
from adapters.outbound.memory.dashboard import InMemorySessionStore
from adapters.outbound.redis.sessions import RedisSessionStore
from adapters.outbound.sqla.dashboard import SqlSessionStore
from core.domain.ids import UserId
from core.ports.dashboard import DashboardSession, SessionStore
from tests.contract.backends_redis import redis_client, unique_prefix
from tests.contract.backends_sql import postgres_engine, sqlite_engine


@attrs.frozen
class SessionHarness:
    store: SessionStore
    clock: FrozenClock
    pass_time: Callable[[float], Awaitable[None]]


@asynccontextmanager
async def memory_sessions() -> AsyncIterator[SessionHarness]:
    clock = FrozenClock()

    async def pass_time(seconds: float) -> None:
        clock.advance(timedelta(seconds=seconds))

    yield SessionHarness(InMemorySessionStore(clock), clock, pass_time)


def _sql(
    engine: Callable[[], AbstractAsyncContextManager[object]],
) -> Callable[[], AbstractAsyncContextManager[SessionHarness]]:
    @asynccontextmanager
    async def harness() -> AsyncIterator[SessionHarness]:
        clock = FrozenClock()

        async def pass_time(seconds: float) -> None:
            clock.advance(timedelta(seconds=seconds))

        async with engine() as db:
            yield SessionHarness(SqlSessionStore(db, clock), clock, pass_time)  # type: ignore[arg-type]

    return harness


@asynccontextmanager
async def redis_sessions() -> AsyncIterator[SessionHarness]:
    prefix = unique_prefix()
    async with redis_client(prefix) as client:

        async def pass_time(seconds: float) -> None:
            await asyncio.sleep(seconds)  # Redis expires keys by its own clock

        yield SessionHarness(RedisSessionStore(client, prefix=prefix), FrozenClock(), pass_time)


BACKENDS = {
    "memory": memory_sessions,
    "sqlite": _sql(sqlite_engine),
    "postgres": _sql(postgres_engine),
    "redis": redis_sessions,
}


@pytest.fixture(params=list(BACKENDS), ids=list(BACKENDS))
async def harness(request: pytest.FixtureRequest) -> AsyncIterator[SessionHarness]:
    async with BACKENDS[request.param]() as h:
        yield h


def _session(h: SessionHarness, key: str, user: int = 7) -> DashboardSession:
    now = h.clock.now()
    return DashboardSession(key, UserId(user), f"csrf-{key[:32]}", now, now)


async def test_a_stored_session_is_found_as_it_was_stored(harness: SessionHarness) -> None:
    session = _session(harness, "a" * 64)
    await harness.store.put(session, 60)
    assert await harness.store.get("a" * 64) == session
    assert await harness.store.get("b" * 64) is None


async def test_putting_a_session_again_replaces_it(harness: SessionHarness) -> None:
    session = _session(harness, "k1")
    await harness.store.put(session, 60)
    later = attrs.evolve(session, last_seen=session.last_seen + timedelta(minutes=5))
    await harness.store.put(later, 60)
    assert await harness.store.get("k1") == later


async def test_a_session_is_forgotten_after_its_time_to_live(harness: SessionHarness) -> None:
    await harness.store.put(_session(harness, "short"), 1)
    await harness.store.put(_session(harness, "long"), 60)
    await harness.pass_time(1.5)
    assert await harness.store.get("short") is None
    assert await harness.store.get("long") is not None


async def test_deleting_ends_one_session_only(harness: SessionHarness) -> None:
    await harness.store.put(_session(harness, "one"), 60)
    await harness.store.put(_session(harness, "two"), 60)
    await harness.store.delete("one")
    await harness.store.delete("never-there")
    assert await harness.store.get("one") is None
    assert await harness.store.get("two") is not None


async def test_logout_everywhere_ends_every_session_of_that_user_only(
    harness: SessionHarness,
) -> None:
    await harness.store.put(_session(harness, "phone", user=7), 60)
    await harness.store.put(_session(harness, "laptop", user=7), 60)
    await harness.store.put(_session(harness, "other", user=8), 60)
    assert await harness.store.delete_user(UserId(7)) == 2
    assert await harness.store.get("phone") is None
    assert await harness.store.get("laptop") is None
    assert await harness.store.get("other") is not None
    assert await harness.store.delete_user(UserId(7)) == 0
