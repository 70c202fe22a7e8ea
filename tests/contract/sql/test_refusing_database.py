"""A database that answers but refuses writes (read-only, or out of room) fails a
unit of work with Unavailable (a payment notification answers 503 and is resent),
not with a driver error (a 500); readiness sees it; and the error says which
statement failed and why, never with what parameters."""

from __future__ import annotations

import asyncio
import traceback
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import event
from sqlalchemy.engine import URL, make_url
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlalchemy.pool import ConnectionPoolEntry

from adapters.outbound.sqla import SqlUnitOfWorkFactory, create_engine, upgrade
from adapters.outbound.sqla.writable import check_writable
from core.domain.audit import AuditRecord
from core.ports.errors import Unavailable
from tests.contract.backends_sql import make_cipher, postgres_url

SUBSCRIBER = "user:777123456"
"""A parameter of the failing write, which no error text may show."""


def _on_connect(engine: AsyncEngine, statement: str) -> None:
    """Run ``statement`` on every new connection of ``engine``, as the server (or the
    operator) would have set the session up."""

    @event.listens_for(engine.sync_engine, "connect")
    def _set_up(dbapi_connection: Any, _record: ConnectionPoolEntry) -> None:
        cursor = dbapi_connection.cursor()
        try:
            cursor.execute(statement)
        finally:
            cursor.close()
        dbapi_connection.commit()  # a session setting made in a transaction lasts past it


async def _write_refusal(engine: AsyncEngine) -> Unavailable:
    factory = SqlUnitOfWorkFactory(engine, make_cipher())

    async def write() -> None:
        async with factory() as uow:
            # More than the free room of the file's pages (for the full one).
            for _ in range(20):
                await uow.audit.append(
                    AuditRecord(
                        SUBSCRIBER, "subscription.extended", "channel:1", {"note": "n" * 2000}
                    ),
                    datetime.now(UTC),
                )
            await uow.commit()

    with pytest.raises(Unavailable) as refused:
        await write()
    return refused.value


def _everything_said(error: BaseException) -> str:
    """The error as a log line with its traceback would show it."""
    return "".join(traceback.format_exception(error))


@asynccontextmanager
async def _sqlite(path: Path, url: URL | None = None) -> AsyncIterator[AsyncEngine]:
    await asyncio.to_thread(upgrade, f"sqlite+aiosqlite:///{path}", "head")
    engine = create_engine(url or make_url(f"sqlite+aiosqlite:///{path}"), pool_size=1)
    try:
        yield engine
    finally:
        await engine.dispose()


async def test_a_read_only_sqlite_file_refuses_a_write_as_unavailable(tmp_path: Path) -> None:
    path = tmp_path / "paygate.db"
    read_only = make_url(f"sqlite+aiosqlite:///file:{path}?mode=ro&uri=true")
    async with _sqlite(path, read_only) as engine:
        refused = await _write_refusal(engine)
        with pytest.raises(Unavailable, match="check that the database takes writes"):
            await check_writable(engine)
    assert "the database is unavailable (SQLITE_READONLY)" in str(refused)
    assert SUBSCRIBER not in _everything_said(refused)


async def test_a_full_sqlite_file_refuses_a_write_as_unavailable(tmp_path: Path) -> None:
    path = tmp_path / "paygate.db"
    async with _sqlite(path) as engine:
        async with engine.connect() as conn:
            pages = (await conn.exec_driver_sql("PRAGMA page_count")).scalar_one()
        await engine.dispose()
        # No page beyond those the file has: as a disk with no room left.
        _on_connect(engine, f"PRAGMA max_page_count = {pages}")
        refused = await _write_refusal(engine)
    assert "the database is unavailable (SQLITE_FULL)" in str(refused)
    assert SUBSCRIBER not in _everything_said(refused)


async def test_a_writable_sqlite_file_is_ready(tmp_path: Path) -> None:
    async with _sqlite(tmp_path / "paygate.db") as engine:
        await check_writable(engine)


@pytest.mark.postgres
async def test_a_read_only_postgres_session_refuses_a_write_as_unavailable() -> None:
    engine = create_engine(await postgres_url(), pool_size=1, max_overflow=0)
    _on_connect(engine, "SET SESSION CHARACTERISTICS AS TRANSACTION READ ONLY")
    try:
        refused = await _write_refusal(engine)
        with pytest.raises(Unavailable, match="takes writes: the database is read-only"):
            await check_writable(engine)
    finally:
        await engine.dispose()
    assert "the database is unavailable (ReadOnlySQLTransactionError)" in str(refused)
    assert SUBSCRIBER not in _everything_said(refused)


@pytest.mark.postgres
async def test_a_writable_postgres_is_ready() -> None:
    engine = create_engine(await postgres_url(), pool_size=1, max_overflow=0)
    try:
        await check_writable(engine)
    finally:
        await engine.dispose()
