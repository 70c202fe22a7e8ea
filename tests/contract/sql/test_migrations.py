"""The Alembic migrations: reversible, and in agreement with the models, on both
SQLite and Postgres."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import Any

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import insert, inspect, select, text
from sqlalchemy.engine import URL, Connection
from sqlalchemy.ext.asyncio import AsyncEngine

from adapters.outbound.crypto import FernetCipher, generate_key
from adapters.outbound.sqla import SqlUnitOfWorkFactory, create_engine, downgrade, metadata, upgrade
from adapters.outbound.sqla.audit import event_to_row
from adapters.outbound.sqla.tables import DATA_TABLES, audit_events, audit_head
from core.domain.audit import AuditEvent, AuditRecord, verify_chain
from tests.contract.sql.head import HEAD

T0 = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)

SCHEMA = {
    "channels",
    "channel_chats",
    "channel_tiers",
    "payment_intents",
    "payment_events",
    "subscriptions",
    "access_grants",
    "donations",
    "audit_events",
    "audit_head",
    "outbox",
    "conversations",
    "chat_languages",
    "person_names",
    "seller_requests",
    "dashboard_sessions",
    "channel_wordings",
    "dashboard_alerts",
    "api_tokens",
    "stars_renewals",
    "daily_figures",
    "trials",
    "coupons",  # issue 21
    "coupon_redemptions",
    "bundle_members",
    "bundle_grants",
}


async def _inspect(url: URL, look: Any) -> Any:
    engine = create_engine(url, pool_size=1, max_overflow=0)
    try:
        async with engine.connect() as conn:
            return await conn.run_sync(look)
    finally:
        await engine.dispose()


def _tables(conn: Connection) -> set[str]:
    return set(inspect(conn).get_table_names())


def _revision(conn: Connection) -> str | None:
    return MigrationContext.configure(conn).get_current_revision()


def _schema_diff(conn: Connection) -> list[Any]:
    context = MigrationContext.configure(conn, opts={"compare_type": True})
    return list(compare_metadata(context, metadata))


async def test_the_migrations_go_up_down_and_up_again(blank_url: URL) -> None:
    await asyncio.to_thread(upgrade, blank_url)
    assert await _inspect(blank_url, _tables) == SCHEMA | {"alembic_version"}
    assert await _inspect(blank_url, _revision) == HEAD

    await asyncio.to_thread(downgrade, blank_url, "base")
    assert await _inspect(blank_url, _tables) == {"alembic_version"}
    assert await _inspect(blank_url, _revision) is None

    await asyncio.to_thread(upgrade, blank_url)
    assert await _inspect(blank_url, _tables) == SCHEMA | {"alembic_version"}
    assert await _inspect(blank_url, _schema_diff) == []


async def test_the_migrated_schema_is_exactly_the_models(engine: AsyncEngine) -> None:
    async with engine.connect() as conn:
        assert await conn.run_sync(_schema_diff) == []


async def test_the_comparison_notices_a_schema_that_drifted(blank_url: URL) -> None:
    # The agreement test above is only worth something if a drift shows up in it.
    await asyncio.to_thread(upgrade, blank_url)
    engine = create_engine(blank_url, pool_size=1, max_overflow=0)
    try:
        async with engine.begin() as conn:
            await conn.execute(text("DROP INDEX ix_subscriptions_status_expires_at_id"))
        async with engine.connect() as conn:
            diff = await conn.run_sync(_schema_diff)
    finally:
        await engine.dispose()
    assert [(change[0], change[1].name) for change in diff] == [
        ("add_index", "ix_subscriptions_status_expires_at_id")
    ]


def test_every_table_of_the_models_is_emptied_between_tests() -> None:
    assert {table.name for table in DATA_TABLES} == set(metadata.tables) == SCHEMA


async def test_the_audit_head_is_seeded_from_the_events_already_stored(blank_url: URL) -> None:
    # A database at 0002 with a chain of two events, then upgraded: the next event
    # chains after the stored tail, and the whole chain verifies.
    await asyncio.to_thread(upgrade, blank_url, "0002")
    first = AuditEvent.chain(None, T0, AuditRecord("owner:1", "channel.registered", "c:1"))
    second = AuditEvent.chain(first, T0, AuditRecord("owner:1", "tiers.set", "c:1"))
    engine = create_engine(blank_url, pool_size=1, max_overflow=0)
    try:
        async with engine.begin() as conn:
            await conn.execute(insert(audit_events), [event_to_row(first), event_to_row(second)])
        await asyncio.to_thread(upgrade, blank_url)
        async with engine.connect() as conn:
            head = (await conn.execute(select(audit_head))).one()
        assert (head.id, head.seq, head.hash) == (1, 2, second.hash)
        uows = SqlUnitOfWorkFactory(engine, FernetCipher([generate_key()]))
        async with uows() as uow:
            await uow.audit.append(AuditRecord("owner:1", "sales.paused", "c:1"), T0)
            await uow.commit()
        async with uows() as uow:
            events = await uow.audit.all()
    finally:
        await engine.dispose()
    assert [e.seq for e in events] == [1, 2, 3]
    assert events[2].prev_hash == second.hash
    assert verify_chain(events)


async def test_tiers_keep_their_prices_when_stars_prices_come_and_go(blank_url: URL) -> None:
    # A tier stored before Stars existed is sold for crypto only after the upgrade; a
    # Stars price set since is dropped by the downgrade, the crypto price kept.
    await asyncio.to_thread(upgrade, blank_url, "0007")
    engine = create_engine(blank_url, pool_size=1, max_overflow=0)
    channel = (
        "INSERT INTO channels (id, owner_id, open_chat_id, closed_chat_id, title, created_at, "
        "sales_paused, tiers_version) "
        "VALUES ('c1', 1, -100, -200, 'News', '2026-11-23 12:00:00', false, 1)"
    )
    tier = (
        "INSERT INTO channel_tiers (channel_id, number, price, currency, duration_days) "
        "VALUES ('c1', 1, 10, 'USD', 30)"
    )
    tiers = "SELECT number, price, currency, duration_days{} FROM channel_tiers"
    try:
        async with engine.begin() as conn:
            await conn.execute(text(channel))
            await conn.execute(text(tier))
        await asyncio.to_thread(upgrade, blank_url, HEAD)
        async with engine.begin() as conn:
            before = (await conn.execute(text(tiers.format(", stars_price")))).all()
            await conn.execute(text("UPDATE channel_tiers SET stars_price = 250"))
        await asyncio.to_thread(downgrade, blank_url, "0007")
        async with engine.connect() as conn:
            after = (await conn.execute(text(tiers.format("")))).all()
            columns = await conn.run_sync(
                lambda sync: {c["name"] for c in inspect(sync).get_columns("channel_tiers")}
            )
        await asyncio.to_thread(upgrade, blank_url, HEAD)
        async with engine.connect() as conn:
            again = (await conn.execute(text(tiers.format(", stars_price")))).all()
    finally:
        await engine.dispose()
    assert [(r[0], int(r[1]), r[2], r[3], r[4]) for r in before] == [(1, 10, "USD", 30, None)]
    assert "stars_price" not in columns
    assert [(r[0], int(r[1]), r[2], r[3]) for r in after] == [(1, 10, "USD", 30)]
    assert [r[4] for r in again] == [None]


async def test_tiers_stored_before_stars_subscriptions_do_not_renew(blank_url: URL) -> None:
    # A Stars tier stored before 0012 is sold as before (no renewal); the downgrade
    # drops the switch and the kept subscriptions, the prices stay.
    await asyncio.to_thread(upgrade, blank_url, "0008")
    engine = create_engine(blank_url, pool_size=1, max_overflow=0)
    channel = (
        "INSERT INTO channels (id, owner_id, open_chat_id, closed_chat_id, title, created_at, "
        "sales_paused, tiers_version) "
        "VALUES ('c1', 1, -100, -200, 'News', '2026-11-23 12:00:00', false, 1)"
    )
    tier = (
        "INSERT INTO channel_tiers (channel_id, number, price, currency, duration_days, "
        "stars_price) VALUES ('c1', 1, 10, 'USD', 30, 500)"
    )
    renewal = (
        "INSERT INTO stars_renewals (charge_id, user_id, channel_id, tier, started_at) "
        "VALUES ('stx1', 7, 'c1', 1, '2026-12-01 12:00:00')"
    )
    try:
        async with engine.begin() as conn:
            await conn.execute(text(channel))
            await conn.execute(text(tier))
        await asyncio.to_thread(upgrade, blank_url, HEAD)
        async with engine.begin() as conn:
            before = (
                await conn.execute(text("SELECT stars_price, stars_renews FROM channel_tiers"))
            ).all()
            await conn.execute(text("UPDATE channel_tiers SET stars_renews = true"))
            await conn.execute(text(renewal))
        await asyncio.to_thread(downgrade, blank_url, "0008")
        async with engine.connect() as conn:
            after = (await conn.execute(text("SELECT stars_price FROM channel_tiers"))).all()
            tables = await conn.run_sync(lambda sync: set(inspect(sync).get_table_names()))
    finally:
        await engine.dispose()
    assert [(r[0], bool(r[1])) for r in before] == [(500, False)]
    assert [r[0] for r in after] == [500]
    assert "stars_renewals" not in tables


async def test_tiers_and_channels_keep_their_rows_across_the_plans_revision(
    blank_url: URL,
) -> None:
    # A tier stored before 0014 is a tier of days after it; going back to 0008 drops
    # the plans' columns and the trial records and keeps every channel and tier.
    await asyncio.to_thread(upgrade, blank_url, "0008")
    engine = create_engine(blank_url, pool_size=1, max_overflow=0)
    channel = (
        "INSERT INTO channels (id, owner_id, open_chat_id, closed_chat_id, title, created_at, "
        "sales_paused, tiers_version) "
        "VALUES ('c1', 1, -100, -200, 'News', '2026-11-23 12:00:00', false, 1)"
    )
    tier = (
        "INSERT INTO channel_tiers (channel_id, number, price, currency, duration_days) "
        "VALUES ('c1', 1, 10, 'USD', 30)"
    )
    trial = "INSERT INTO trials (channel_id, user_id, taken_at) VALUES ('c1', 5, :at)"
    try:
        async with engine.begin() as conn:
            await conn.execute(text(channel))
            await conn.execute(text(tier))
        await asyncio.to_thread(upgrade, blank_url, "0014")
        async with engine.begin() as conn:
            kinds = (await conn.execute(text("SELECT kind, ends_on FROM channel_tiers"))).all()
            await conn.execute(text(trial), {"at": T0})
        await asyncio.to_thread(downgrade, blank_url, "0008")
        async with engine.connect() as conn:
            tiers = (await conn.execute(text("SELECT number FROM channel_tiers"))).all()
            names = await conn.run_sync(_tables)
    finally:
        await engine.dispose()
    assert [tuple(row) for row in kinds] == [("days", None)]
    assert [row[0] for row in tiers] == [1]
    assert "trials" not in names
