"""ApiTokenStore contract: tokens kept under their digest, found only while active,
listed per owner newest first, revoked only by their owner, their use recorded; in
memory, SQLite and Postgres."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from datetime import UTC, datetime, timedelta

import pytest

from adapters.outbound.memory.api_tokens import InMemoryApiTokenStore
from adapters.outbound.sqla.api_tokens import SqlApiTokenStore
from core.domain.ids import UserId
from core.ports.api_tokens import ApiScope, ApiToken, ApiTokenStore
from core.ports.errors import Conflict
from tests.contract.backends_sql import postgres_engine, sqlite_engine

NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)


@asynccontextmanager
async def memory_store() -> AsyncIterator[ApiTokenStore]:
    yield InMemoryApiTokenStore()


def _sql(
    engine: Callable[[], AbstractAsyncContextManager[object]],
) -> Callable[[], AbstractAsyncContextManager[ApiTokenStore]]:
    @asynccontextmanager
    async def store() -> AsyncIterator[ApiTokenStore]:
        async with engine() as db:
            yield SqlApiTokenStore(db)  # type: ignore[arg-type]

    return store


BACKENDS = {
    "memory": memory_store,
    "sqlite": _sql(sqlite_engine),
    "postgres": _sql(postgres_engine),
}


@pytest.fixture(params=list(BACKENDS), ids=list(BACKENDS))
async def store(request: pytest.FixtureRequest) -> AsyncIterator[ApiTokenStore]:
    async with BACKENDS[request.param]() as s:
        yield s


def _token(token_id: str, user: int = 7, minutes: int = 0) -> ApiToken:
    return ApiToken(
        token_id,
        UserId(user),
        f"name {token_id}",
        ApiScope.WRITE,
        "pgt_abcdefgh",
        NOW + timedelta(minutes=minutes),
    )


async def test_a_token_is_found_by_its_digest_as_it_was_stored(store: ApiTokenStore) -> None:
    token = _token("t1")
    await store.add(token, "d" * 64)
    assert await store.by_digest("d" * 64) == token
    assert await store.get("t1") == token
    assert await store.by_digest("e" * 64) is None
    assert await store.get("t2") is None


async def test_an_id_or_digest_taken_already_is_a_conflict(store: ApiTokenStore) -> None:
    await store.add(_token("t1"), "d" * 64)
    with pytest.raises(Conflict):
        await store.add(_token("t1"), "e" * 64)
    with pytest.raises(Conflict):
        await store.add(_token("t2"), "d" * 64)
    assert await store.get("t2") is None


async def test_an_owner_lists_only_their_tokens_newest_first(store: ApiTokenStore) -> None:
    await store.add(_token("old", minutes=0), "a" * 64)
    await store.add(_token("new", minutes=5), "b" * 64)
    await store.add(_token("theirs", user=8, minutes=9), "c" * 64)
    assert [t.id for t in await store.of_user(UserId(7))] == ["new", "old"]
    assert await store.of_user(UserId(9)) == []


async def test_a_revoked_token_is_listed_but_never_found_by_its_digest(
    store: ApiTokenStore,
) -> None:
    await store.add(_token("t1"), "d" * 64)
    later = NOW + timedelta(hours=1)
    assert await store.revoke("t1", UserId(7), later)
    assert await store.by_digest("d" * 64) is None
    found = await store.get("t1")
    assert found is not None and found.revoked_at == later and not found.active
    assert [t.revoked_at for t in await store.of_user(UserId(7))] == [later]
    assert not await store.revoke("t1", UserId(7), later)  # once only


async def test_only_the_owner_revokes_a_token(store: ApiTokenStore) -> None:
    await store.add(_token("t1"), "d" * 64)
    assert not await store.revoke("t1", UserId(8), NOW)
    assert not await store.revoke("missing", UserId(7), NOW)
    assert await store.by_digest("d" * 64) is not None


async def test_a_use_is_recorded(store: ApiTokenStore) -> None:
    await store.add(_token("t1"), "d" * 64)
    used = NOW + timedelta(minutes=3)
    await store.touch("t1", used)
    await store.touch("missing", used)
    found = await store.get("t1")
    assert found is not None and found.last_used == used


async def test_forgetting_a_person_deletes_all_their_tokens_only(store: ApiTokenStore) -> None:
    await store.add(_token("mine"), "a" * 64)
    await store.add(_token("revoked"), "b" * 64)
    await store.revoke("revoked", UserId(7), NOW)
    await store.add(_token("theirs", user=8), "c" * 64)
    assert await store.forget(UserId(7)) == 2
    assert await store.of_user(UserId(7)) == []
    assert await store.by_digest("a" * 64) is None and await store.get("mine") is None
    assert [t.id for t in await store.of_user(UserId(8))] == ["theirs"]
    assert await store.forget(UserId(7)) == 0
    await store.add(_token("again"), "a" * 64)  # the digest is free again
