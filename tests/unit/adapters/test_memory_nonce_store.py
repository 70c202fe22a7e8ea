"""The in-memory nonce store stays bounded and refuses rather than forgets."""

from __future__ import annotations

from datetime import timedelta

import pytest

from adapters.outbound.memory import FrozenClock, InMemoryNonceStore
from core.ports.errors import Unavailable


async def test_expired_nonces_are_dropped_from_memory() -> None:
    clock = FrozenClock()
    store = InMemoryNonceStore(clock)
    for n in range(100):
        await store.remember("scheduler", f"n{n}", 60)
    clock.advance(timedelta(seconds=60))

    await store.remember("scheduler", "fresh", 60)

    assert len(store) == 1


async def test_a_full_store_refuses_new_nonces_but_still_recognises_replays() -> None:
    clock = FrozenClock()
    store = InMemoryNonceStore(clock, max_entries=2)
    await store.remember("s", "a", 60)
    await store.remember("s", "b", 60)

    with pytest.raises(Unavailable):
        await store.remember("s", "c", 60)
    assert await store.remember("s", "a", 60) is False

    clock.advance(timedelta(seconds=60))
    assert await store.remember("s", "c", 60) is True


async def test_a_time_to_live_under_a_second_is_refused() -> None:
    with pytest.raises(ValueError, match="second"):
        await InMemoryNonceStore(FrozenClock()).remember("s", "a", 0)
