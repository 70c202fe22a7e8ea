"""Dashboard sessions: rotated at login, ended by 30 idle minutes or 12 hours in all."""

from __future__ import annotations

from datetime import timedelta

from adapters.outbound.memory import FrozenClock
from adapters.outbound.memory.dashboard import InMemorySessionStore
from adapters.outbound.system.ids import RandomIdGenerator
from core.domain.ids import UserId
from core.services.dashboard_sessions import DashboardSessions, session_key

OWNER = UserId(1000)


def sessions() -> tuple[DashboardSessions, FrozenClock, InMemorySessionStore]:
    clock = FrozenClock()
    store = InMemorySessionStore(clock)
    return DashboardSessions(store, clock, RandomIdGenerator()), clock, store


async def test_the_store_keeps_only_the_hash_of_the_token() -> None:
    service, _, store = sessions()
    started = await service.start(OWNER)
    assert await store.get(started.token) is None
    assert await store.get(session_key(started.token)) == started.session


async def test_login_rotates_the_session_the_browser_had() -> None:
    service, _, _ = sessions()
    first = await service.start(OWNER)
    second = await service.start(OWNER, previous_token=first.token)
    assert second.token != first.token
    assert await service.resume(first.token) is None
    assert await service.resume(second.token) is not None


async def test_thirty_idle_minutes_end_a_session() -> None:
    service, clock, _ = sessions()
    started = await service.start(OWNER)
    clock.advance(timedelta(minutes=29))
    assert await service.resume(started.token) is not None
    clock.advance(timedelta(minutes=30))
    assert await service.resume(started.token) is None


async def test_twelve_hours_end_a_session_however_busy() -> None:
    service, clock, _ = sessions()
    started = await service.start(OWNER)
    for _ in range(12 * 3):
        clock.advance(timedelta(minutes=20))
        if clock.now() - started.session.created_at < timedelta(hours=12):
            assert await service.resume(started.token) is not None
    assert await service.resume(started.token) is None


async def test_logout_everywhere_ends_every_device() -> None:
    service, _, _ = sessions()
    phone, laptop = await service.start(OWNER), await service.start(OWNER)
    assert await service.end_everywhere(OWNER) == 2
    assert await service.resume(phone.token) is None
    assert await service.resume(laptop.token) is None
