"""The Alembic migrations: reversible, and in agreement with the models, on both
SQLite and Postgres."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect, text
from sqlalchemy.engine import URL, Connection
from sqlalchemy.ext.asyncio import AsyncEngine

from adapters.outbound.sqla import create_engine, downgrade, metadata, upgrade
from adapters.outbound.sqla.tables import DATA_TABLES
from tests.contract.backends_sql import blank_postgres_database, sqlite_url

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
    "outbox",
    "conversations",
}


@pytest.fixture(params=["sqlite", "postgres"])
async def blank_url(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[URL]:
    """A database with nothing in it yet."""
    if request.param == "sqlite":
        yield sqlite_url(tmp_path / "blank.db")
        return
    async with blank_postgres_database() as url:
        yield url


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
    assert await _inspect(blank_url, _revision) == "0002"

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
