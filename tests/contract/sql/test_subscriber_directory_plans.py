"""The dashboard's subscriber pages are read through indexes that hold their order:
on a table of many subscriptions (loaded in bulk, as the benchmarks load them), the
plan of every form of a deep keyset page (a channel, by status or not; every
channel, by status or not) scans an index and sorts nothing, on SQLite and Postgres;
a person's rows are found by the (user, channel) key."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncEngine

from adapters.outbound.sqla.subscriber_directory import SqlSubscriberDirectory
from bench.bench_expiry_sweep import load_subscriptions
from core.domain.ids import ChannelId, SubscriptionId, UserId
from core.domain.subscription import Subscription, SubscriptionStatus
from core.ports.subscriber_directory import DirectoryQuery

NOW = datetime(2026, 5, 1, 9, 30, tzinfo=UTC)
CHANNELS = [ChannelId(f"chplan{n}") for n in range(4)]
SIZE = 10_000


def _subscriptions() -> list[Subscription]:
    rng = random.Random(11)
    statuses = list(SubscriptionStatus)
    return [
        Subscription(
            id=SubscriptionId(f"plan{n:08d}"),
            user_id=UserId(8_000_000_000 + n),
            channel_id=CHANNELS[n % len(CHANNELS)],
            tier=1,
            starts_at=NOW - timedelta(days=30),
            expires_at=NOW + timedelta(minutes=rng.randrange(-500_000, 500_000)),
            status=statuses[rng.randrange(len(statuses))],
        )
        for n in range(SIZE)
    ]


async def _plan(engine: AsyncEngine, statement: str, parameters: Any) -> str:
    async with engine.connect() as conn:
        if conn.dialect.name == "postgresql":
            rows = await conn.exec_driver_sql("EXPLAIN " + statement, parameters)
            return "\n".join(str(r[0]) for r in rows)
        rows = await conn.exec_driver_sql("EXPLAIN QUERY PLAN " + statement, parameters)
        return "\n".join(str(r[-1]) for r in rows)


QUERIES = {
    "a channel": DirectoryQuery((CHANNELS[0],)),
    "a channel by status": DirectoryQuery((CHANNELS[1],), SubscriptionStatus.EXPIRED),
    "every channel": DirectoryQuery(None),
    "every channel by status": DirectoryQuery(None, SubscriptionStatus.ACTIVE),
}


@pytest.mark.parametrize("form", list(QUERIES))
async def test_a_deep_page_scans_an_index_in_order(engine: AsyncEngine, form: str) -> None:
    subs = _subscriptions()
    async with engine.connect() as conn:
        await load_subscriptions(conn, subs)
        await conn.commit()
    async with engine.connect() as conn:
        await conn.exec_driver_sql("ANALYZE")
        await conn.commit()
    directory = SqlSubscriberDirectory(engine)
    query = QUERIES[form]
    seen: list[tuple[str, Any]] = []

    def on_execute(_c: Any, _cur: Any, statement: str, parameters: Any, *_: Any) -> None:
        if statement.startswith("SELECT"):  # not SQLite's BEGIN
            seen.append((statement, parameters))

    first = await directory.page(query, None, 200)
    last = first[-1].subscription
    event.listen(engine.sync_engine, "before_cursor_execute", on_execute)
    try:
        deeper = await directory.page(query, (last.expires_at, last.id), 50)
    finally:
        event.remove(engine.sync_engine, "before_cursor_execute", on_execute)

    assert deeper and deeper[0].subscription.expires_at <= last.expires_at
    assert len(seen) == 1
    plan = await _plan(engine, *seen[0])
    if engine.dialect.name == "postgresql":
        assert "Index" in plan and "Sort" not in plan, plan
    else:
        assert "USING INDEX ix_subscriptions_" in plan and "TEMP B-TREE" not in plan, plan


async def test_a_person_is_found_by_the_user_and_channel_key(engine: AsyncEngine) -> None:
    subs = _subscriptions()
    async with engine.connect() as conn:
        await load_subscriptions(conn, subs)
        await conn.commit()
    async with engine.connect() as conn:
        await conn.exec_driver_sql("ANALYZE")
        await conn.commit()
    seen: list[tuple[str, Any]] = []

    def on_execute(_c: Any, _cur: Any, statement: str, parameters: Any, *_: Any) -> None:
        if statement.startswith("SELECT"):  # not SQLite's BEGIN
            seen.append((statement, parameters))

    event.listen(engine.sync_engine, "before_cursor_execute", on_execute)
    try:
        rows = await SqlSubscriberDirectory(engine).page(
            DirectoryQuery(tuple(CHANNELS), None, (subs[5].user_id,)), None, 50
        )
    finally:
        event.remove(engine.sync_engine, "before_cursor_execute", on_execute)

    assert [r.subscription.id for r in rows] == [subs[5].id]
    plan = await _plan(engine, *seen[0])
    if engine.dialect.name == "postgresql":
        assert "Index" in plan and "Seq Scan on subscriptions" not in plan, plan
    else:
        # The unique (user_id, channel_id) constraint's own index.
        assert "SEARCH subscriptions USING INDEX" in plan, plan
        assert "(user_id=? AND channel_id=?)" in plan, plan
