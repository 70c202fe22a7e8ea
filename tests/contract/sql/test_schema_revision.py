"""The schema revision check every process runs at start: only a database at exactly
the newest shipped revision passes; anything else is refused with what to do, on
both SQLite and Postgres."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import text
from sqlalchemy.engine import URL

from adapters.outbound.sqla import (
    SchemaMismatch,
    check_schema_revision,
    create_engine,
    downgrade,
    upgrade,
)
from adapters.outbound.sqla.revision import database_revisions, shipped_revisions
from core.ports.errors import Unavailable
from tests.contract.sql.head import HEAD, SHIPPED


async def _refusal(url: URL) -> SchemaMismatch:
    engine = create_engine(url, pool_size=1, max_overflow=0)
    try:
        with pytest.raises(SchemaMismatch) as refused:
            await check_schema_revision(engine)
    finally:
        await engine.dispose()
    return refused.value


async def _set_revision(url: URL, revision: str) -> None:
    engine = create_engine(url, pool_size=1, max_overflow=0)
    try:
        async with engine.begin() as conn:
            await conn.execute(
                text("UPDATE alembic_version SET version_num = :revision"), {"revision": revision}
            )
    finally:
        await engine.dispose()


def test_this_release_needs_the_newest_shipped_revision_and_knows_every_one() -> None:
    shipped = shipped_revisions()
    assert shipped.heads == {HEAD}
    assert shipped.known == set(SHIPPED)


async def test_an_empty_database_is_refused_with_the_command_that_creates_the_schema(
    blank_url: URL,
) -> None:
    refused = await _refusal(blank_url)

    assert str(refused) == "the database is empty (no PayGate schema): run `paygate db upgrade`"
    assert (refused.current, refused.needed) == ((), (HEAD,))


async def test_a_database_migrated_down_to_base_is_refused_as_empty(blank_url: URL) -> None:
    # Alembic keeps its version table, with no row in it, after `db downgrade base`.
    await asyncio.to_thread(upgrade, blank_url)
    await asyncio.to_thread(downgrade, blank_url, "base")

    refused = await _refusal(blank_url)

    assert str(refused).startswith("the database is empty")


async def test_a_database_behind_this_release_is_refused_until_it_is_upgraded(
    blank_url: URL,
) -> None:
    await asyncio.to_thread(upgrade, blank_url, "0002")

    refused = await _refusal(blank_url)

    assert str(refused) == (
        f"the database schema is at revision 0002 but this release needs {HEAD}: "
        "stop every PayGate process and run `paygate db upgrade`"
    )
    assert (refused.current, refused.needed) == (("0002",), (HEAD,))


async def test_a_database_at_the_newest_revision_passes(blank_url: URL) -> None:
    await asyncio.to_thread(upgrade, blank_url)
    engine = create_engine(blank_url, pool_size=1, max_overflow=0)
    try:
        await check_schema_revision(engine)
        assert await database_revisions(engine) == (HEAD,)
    finally:
        await engine.dispose()


async def test_a_database_migrated_by_a_newer_release_is_refused_as_unknown(
    blank_url: URL,
) -> None:
    await asyncio.to_thread(upgrade, blank_url)
    await _set_revision(blank_url, "0099_from_the_future")

    refused = await _refusal(blank_url)

    assert str(refused) == (
        "the database schema is at revision 0099_from_the_future, which this release does "
        "not know (it is newer): run the release that migrated it, or migrate it down "
        "with that release"
    )
    assert refused.current == ("0099_from_the_future",)


async def test_an_unreachable_database_is_unavailable_not_a_mismatch() -> None:
    # Port 1 on loopback: nothing listens, the connection is refused at once.
    engine = create_engine("postgresql+asyncpg://paygate@127.0.0.1:1/paygate")
    try:
        with pytest.raises(Unavailable, match="the database is unavailable"):
            await check_schema_revision(engine)
    finally:
        await engine.dispose()
