"""ConversationStore contract: one conversation per person, ending on its own after
its idle time, shared by every process (memory, SQLite, Postgres, Redis).

Backends are harnesses: the store, the FrozenClock it reads (every adapter goes by
the injected clock, Redis included), and a way to open the same data as another
process would (another engine, another Redis client; the memory store has no other
process, so it is itself)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from datetime import timedelta

import attrs
import pytest
from redis.asyncio import Redis
from sqlalchemy.ext.asyncio import AsyncEngine

from adapters.outbound.memory.clock import FrozenClock
from adapters.outbound.memory.conversations import InMemoryConversationStore
from adapters.outbound.redis.client import connect_redis
from adapters.outbound.redis.conversations import RedisConversationStore
from adapters.outbound.sqla.conversations import SqlConversationStore
from composition.assembly import database_config, opened_store
from core.domain.ids import UserId
from core.ports.conversations import (
    Conversation,
    ConversationStore,
    FieldValue,
    StoredConversation,
)
from tests.contract.backends_redis import redis_client, unique_prefix
from tests.contract.backends_sql import postgres_engine, sqlite_engine
from tests.services import REDIS_URL

OWNER = UserId(1000)
DONOR = UserId(2003)
TIMEOUT = timedelta(minutes=5)

OPEN = Conversation("register.open")
CLOSED = Conversation("register.closed", {"open": -1001000000001})
KEYPAD: dict[str, FieldValue] = {
    "channel": "ch0123456789abcdef",
    "keypad_chat": 2003,
    "keypad_message": 17,
}
AMOUNT = Conversation("donation.amount", KEYPAD)


@attrs.frozen
class StoreHarness:
    store: ConversationStore
    clock: FrozenClock
    other_process: Callable[[], AbstractAsyncContextManager[ConversationStore]]
    """The same conversations as another process sees them."""

    def pass_time(self, delta: timedelta) -> None:
        self.clock.advance(delta)


StoreBackend = Callable[[], AbstractAsyncContextManager[StoreHarness]]


@asynccontextmanager
async def memory_store() -> AsyncIterator[StoreHarness]:
    clock = FrozenClock()
    store = InMemoryConversationStore(clock)

    @asynccontextmanager
    async def same() -> AsyncIterator[ConversationStore]:
        yield store

    yield StoreHarness(store, clock, same)


def _sql_harness(engine: AsyncEngine) -> StoreHarness:
    clock = FrozenClock()

    @asynccontextmanager
    async def other_process() -> AsyncIterator[ConversationStore]:
        url = engine.url.render_as_string(hide_password=False)
        config = database_config(url, {"PAYGATE_DB_POOL_SIZE": "2"})
        async with opened_store(config) as other:
            yield SqlConversationStore(other.engine, clock)

    return StoreHarness(SqlConversationStore(engine, clock), clock, other_process)


@asynccontextmanager
async def sqlite_store() -> AsyncIterator[StoreHarness]:
    async with sqlite_engine() as engine:
        yield _sql_harness(engine)


@asynccontextmanager
async def postgres_store() -> AsyncIterator[StoreHarness]:
    async with postgres_engine() as engine:
        yield _sql_harness(engine)


@asynccontextmanager
async def redis_store() -> AsyncIterator[StoreHarness]:
    prefix = unique_prefix()
    clock = FrozenClock()
    async with redis_client(prefix) as client:

        @asynccontextmanager
        async def other_process() -> AsyncIterator[ConversationStore]:
            other = connect_redis(REDIS_URL, timeout=2.0)
            try:
                yield RedisConversationStore(other, clock, prefix=prefix)
            finally:
                await other.aclose()

        yield StoreHarness(
            RedisConversationStore(client, clock, prefix=prefix), clock, other_process
        )


STORE_BACKENDS: dict[str, StoreBackend] = {
    "memory": memory_store,
    "sqlite": sqlite_store,
    "postgres": postgres_store,
    "redis": redis_store,
}


@pytest.fixture(params=list(STORE_BACKENDS), ids=list(STORE_BACKENDS))
async def held(request: pytest.FixtureRequest) -> AsyncIterator[StoreHarness]:
    async with STORE_BACKENDS[request.param]() as harness:
        yield harness


async def test_a_conversation_comes_back_as_it_was_put(held: StoreHarness) -> None:
    version = await held.store.put(DONOR, AMOUNT, TIMEOUT)

    assert await held.store.get(DONOR) == StoredConversation(
        DONOR, AMOUNT, str(version), held.clock.now() + TIMEOUT
    )


async def test_large_ids_and_any_text_survive_the_round_trip(held: StoreHarness) -> None:
    collected: dict[str, FieldValue] = {
        "open": -1009223372036854775,
        "closed": 9223372036854775807,
        "note": "Café ☕ «x»",
    }
    conversation = Conversation("register.title", collected)
    await held.store.put(OWNER, conversation, TIMEOUT)

    found = await held.store.get(OWNER)

    assert found is not None
    assert found.conversation == conversation
    assert found.conversation.number("closed") == 9223372036854775807
    assert found.conversation.text("note") == "Café ☕ «x»"


async def test_nobody_is_in_a_conversation_to_begin_with(held: StoreHarness) -> None:
    assert await held.store.get(OWNER) is None
    assert await held.store.delete(OWNER) is False
    assert await held.store.put(OWNER, CLOSED, TIMEOUT, if_version="anything") is None
    assert await held.store.get(OWNER) is None


async def test_a_conversation_ends_when_its_idle_time_is_up(held: StoreHarness) -> None:
    version = await held.store.put(OWNER, OPEN, TIMEOUT)

    held.pass_time(TIMEOUT - timedelta(seconds=1))
    still = await held.store.get(OWNER)
    held.pass_time(timedelta(seconds=1))

    assert still is not None and still.conversation == OPEN
    assert await held.store.get(OWNER) is None
    assert await held.store.put(OWNER, CLOSED, TIMEOUT, if_version=version) is None
    assert await held.store.get(OWNER) is None


async def test_each_step_restarts_the_idle_time(held: StoreHarness) -> None:
    version = await held.store.put(OWNER, OPEN, TIMEOUT)
    held.pass_time(timedelta(minutes=4))

    await held.store.put(OWNER, CLOSED, TIMEOUT, if_version=version)
    held.pass_time(timedelta(minutes=4))
    found = await held.store.get(OWNER)

    assert found is not None
    assert found.conversation == CLOSED
    assert found.expires_at == held.clock.now() + timedelta(minutes=1)


async def test_a_new_conversation_replaces_the_one_held(held: StoreHarness) -> None:
    first = await held.store.put(OWNER, AMOUNT, TIMEOUT)
    held.pass_time(timedelta(minutes=1))

    second = await held.store.put(OWNER, OPEN, TIMEOUT)
    found = await held.store.get(OWNER)

    assert found == StoredConversation(OWNER, OPEN, str(second), held.clock.now() + TIMEOUT)
    assert second != first


async def test_a_step_is_written_only_over_the_version_it_read(held: StoreHarness) -> None:
    seen = await held.store.put(OWNER, OPEN, TIMEOUT)
    moved = await held.store.put(OWNER, CLOSED, TIMEOUT, if_version=seen)

    stale = await held.store.put(OWNER, OPEN, TIMEOUT, if_version=seen)
    found = await held.store.get(OWNER)

    assert moved is not None and moved != seen
    assert stale is None
    assert found is not None
    assert (found.conversation, found.version) == (CLOSED, moved)


@pytest.mark.parametrize("ttl", [timedelta(0), timedelta(seconds=-1)], ids=["zero", "negative"])
async def test_a_conversation_without_positive_time_is_refused_and_not_written(
    held: StoreHarness, ttl: timedelta
) -> None:
    version = await held.store.put(OWNER, OPEN, TIMEOUT)

    with pytest.raises(ValueError, match="a conversation lasts a positive time"):
        await held.store.put(OWNER, CLOSED, ttl)
    with pytest.raises(ValueError, match="a conversation lasts a positive time"):
        await held.store.put(OWNER, CLOSED, ttl, if_version=version)

    assert await held.store.get(OWNER) == StoredConversation(
        OWNER, OPEN, str(version), held.clock.now() + TIMEOUT
    )


async def test_a_sweep_of_no_conversations_is_refused_and_takes_none(held: StoreHarness) -> None:
    await held.store.put(OWNER, OPEN, TIMEOUT)
    held.pass_time(TIMEOUT)

    with pytest.raises(ValueError, match="take at least one conversation"):
        await held.store.take_expired(0)

    assert [t.user_id for t in await held.store.take_expired(10)] == [OWNER]


async def test_ending_a_conversation_forgets_it(held: StoreHarness) -> None:
    await held.store.put(OWNER, OPEN, TIMEOUT)

    ended = await held.store.delete(OWNER)

    assert ended is True
    assert await held.store.get(OWNER) is None
    assert await held.store.delete(OWNER) is False
    held.pass_time(TIMEOUT)
    assert await held.store.take_expired(10) == []


async def test_ending_at_a_stale_version_leaves_the_newer_conversation(
    held: StoreHarness,
) -> None:
    seen = await held.store.put(OWNER, AMOUNT, TIMEOUT)
    newer = await held.store.put(OWNER, OPEN, TIMEOUT)

    ended = await held.store.delete(OWNER, if_version=seen)
    found = await held.store.get(OWNER)

    assert ended is False
    assert found is not None and (found.conversation, found.version) == (OPEN, newer)
    assert await held.store.delete(OWNER, if_version=newer) is True


async def test_two_people_have_conversations_of_their_own(held: StoreHarness) -> None:
    await held.store.put(OWNER, CLOSED, TIMEOUT)
    await held.store.put(DONOR, AMOUNT, TIMEOUT)

    await held.store.delete(OWNER)
    donor = await held.store.get(DONOR)

    assert await held.store.get(OWNER) is None
    assert donor is not None and donor.conversation == AMOUNT


async def test_timed_out_conversations_are_taken_once_oldest_first(held: StoreHarness) -> None:
    people = [UserId(3000 + n) for n in range(4)]
    for n, person in enumerate(people):
        await held.store.put(person, Conversation("register.open", {"n": n}), TIMEOUT)
        held.pass_time(timedelta(minutes=1))
    # Now 4 minutes on: only the first person's conversation is due after one more.
    held.pass_time(timedelta(minutes=2))

    first = await held.store.take_expired(10)
    again = await held.store.take_expired(10)

    assert [(t.user_id, t.conversation.number("n")) for t in first] == [
        (people[0], 0),
        (people[1], 1),
    ]
    assert again == []
    assert await held.store.get(people[2]) is not None
    assert await held.store.get(people[0]) is None


async def test_taking_timed_out_conversations_stops_at_the_limit(held: StoreHarness) -> None:
    for n in range(5):
        await held.store.put(UserId(3000 + n), OPEN, TIMEOUT)
    held.pass_time(TIMEOUT)

    batch = await held.store.take_expired(3)
    rest = await held.store.take_expired(3)

    assert len(batch) == 3
    assert len(rest) == 2
    assert {t.user_id for t in batch} | {t.user_id for t in rest} == {
        UserId(3000 + n) for n in range(5)
    }


async def test_a_timed_out_conversation_is_left_for_its_notice(held: StoreHarness) -> None:
    version = await held.store.put(DONOR, AMOUNT, TIMEOUT)
    held.pass_time(TIMEOUT)

    ended = await held.store.delete(DONOR, if_version=version)
    taken = await held.store.take_expired(10)

    assert ended is False
    assert [(t.user_id, t.conversation, t.version) for t in taken] == [(DONOR, AMOUNT, version)]


async def test_of_racing_steps_read_from_one_version_exactly_one_is_written(
    held: StoreHarness,
) -> None:
    seen = await held.store.put(OWNER, OPEN, TIMEOUT)
    attempts = [Conversation("register.closed", {"open": -1001000000000 - n}) for n in range(8)]

    async with held.other_process() as other:
        stores = [held.store, other]
        results = await asyncio.gather(
            *(
                stores[n % 2].put(OWNER, attempt, TIMEOUT, if_version=seen)
                for n, attempt in enumerate(attempts)
            )
        )
    found = await held.store.get(OWNER)

    written = [(a, v) for a, v in zip(attempts, results, strict=True) if v is not None]
    assert len(written) == 1
    assert found is not None
    assert (found.conversation, found.version) == written[0]


async def test_racing_writers_of_different_people_all_land(held: StoreHarness) -> None:
    people = [UserId(4000 + n) for n in range(10)]

    async with held.other_process() as other:
        stores = [held.store, other]
        await asyncio.gather(
            *(
                stores[n % 2].put(person, Conversation("register.open", {"n": n}), TIMEOUT)
                for n, person in enumerate(people)
            )
        )
        seen_by_other = [await other.get(person) for person in people]

    assert [h.conversation.number("n") if h else None for h in seen_by_other] == list(range(10))


async def test_racing_sweeps_take_each_timed_out_conversation_once(held: StoreHarness) -> None:
    people = {UserId(5000 + n) for n in range(12)}
    for person in people:
        await held.store.put(person, OPEN, TIMEOUT)
    held.pass_time(TIMEOUT)

    async with held.other_process() as other:
        batches = await asyncio.gather(
            *(store.take_expired(4) for store in (held.store, other, held.store, other))
        )
    taken = [t.user_id for batch in batches for t in batch]

    assert sorted(taken) == sorted(people)


async def test_a_conversation_one_process_wrote_is_read_by_another(held: StoreHarness) -> None:
    version = await held.store.put(DONOR, AMOUNT, TIMEOUT)

    async with held.other_process() as other:
        found = await other.get(DONOR)
        ended = await other.delete(DONOR, if_version=version)

    assert found is not None and found.conversation == AMOUNT
    assert ended is True
    assert await held.store.get(DONOR) is None


# ------------------------------------------------------------- Redis only
@pytest.fixture
async def redis_keys() -> AsyncIterator[tuple[Redis, str]]:
    prefix = unique_prefix()
    async with redis_client(prefix) as client:
        yield client, prefix


@pytest.mark.redis
async def test_every_redis_key_expires_a_grace_period_after_its_conversation(
    redis_keys: tuple[Redis, str],
) -> None:
    client, prefix = redis_keys
    store = RedisConversationStore(
        client, FrozenClock(), prefix=prefix, grace=timedelta(minutes=10)
    )
    await store.put(OWNER, OPEN, TIMEOUT)
    await store.put(DONOR, AMOUNT, timedelta(minutes=1))

    keys = sorted([key.decode() async for key in client.scan_iter(match=f"{prefix}*")])
    ttls = {key.removeprefix(prefix): await client.pttl(key) for key in keys}

    assert set(ttls) == {"deadlines", f"user:{DONOR}", f"user:{OWNER}"}
    assert 14 * 60_000 < ttls[f"user:{OWNER}"] <= 15 * 60_000
    assert 10 * 60_000 < ttls[f"user:{DONOR}"] <= 11 * 60_000
    # The deadlines live as long as the longest-lived conversation in them.
    assert 14 * 60_000 < ttls["deadlines"] <= 15 * 60_000


@pytest.mark.redis
async def test_redis_drops_a_conversation_nobody_swept_after_its_grace(
    redis_keys: tuple[Redis, str],
) -> None:
    client, prefix = redis_keys
    clock = FrozenClock()
    store = RedisConversationStore(client, clock, prefix=prefix, grace=timedelta(milliseconds=50))
    await store.put(OWNER, OPEN, timedelta(milliseconds=50))

    await asyncio.sleep(0.3)  # Redis's own TTL runs in real time
    clock.advance(timedelta(seconds=1))

    assert await client.exists(store.key(OWNER)) == 0
    assert await store.take_expired(10) == []
    assert [key async for key in client.scan_iter(match=f"{prefix}*")] == []
