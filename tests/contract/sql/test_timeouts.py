"""A database that stops answering fails a unit of work with Unavailable within its
timeouts (``DatabaseTimeouts``), so a payment notification gets its 503 while the
provider still waits: a lock held by another session (the server cancels the wait),
and a server frozen altogether (the driver gives up: after its own wait for the
answer and as long again trying to have the statement cancelled)."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import pytest
from sqlalchemy import text
from sqlalchemy.engine import URL
from sqlalchemy.ext.asyncio import create_async_engine
from sqlalchemy.pool import NullPool

from adapters.outbound.sqla import DatabaseTimeouts, SqlUnitOfWorkFactory, create_engine
from adapters.outbound.sqla.engine import CLIENT_TIMEOUT_MARGIN_SECONDS
from core.ports.errors import Unavailable
from tests.contract.backends_sql import make_cipher, postgres_url
from tests.contract.sql.frozen import FreezableRelay

TIMEOUTS = DatabaseTimeouts(statement=0.5, connect=0.5)


async def _elapsed_until_unavailable(factory: SqlUnitOfWorkFactory) -> float:
    started = time.monotonic()
    with pytest.raises(Unavailable):
        async with factory() as uow:
            await uow.channels.all()
    return time.monotonic() - started


@asynccontextmanager
async def _factory(url: URL) -> AsyncIterator[SqlUnitOfWorkFactory]:
    engine = create_engine(url, pool_size=1, max_overflow=0, timeouts=TIMEOUTS)
    try:
        yield SqlUnitOfWorkFactory(engine, make_cipher(), TIMEOUTS)
    finally:
        with contextlib.suppress(Exception):
            await asyncio.wait_for(engine.dispose(), 2)


@pytest.mark.postgres
async def test_a_statement_waiting_for_a_lock_fails_unavailable_after_the_statement_timeout() -> (
    None
):
    url = await postgres_url()
    admin = create_async_engine(url, poolclass=NullPool)
    try:
        async with _factory(url) as factory, admin.connect() as locker:
            await locker.execute(text("LOCK TABLE channels IN ACCESS EXCLUSIVE MODE"))
            took = await _elapsed_until_unavailable(factory)
            await locker.rollback()
            async with factory() as uow:
                await uow.channels.all()  # answered again once the lock is gone
    finally:
        await admin.dispose()
    assert TIMEOUTS.statement <= took < TIMEOUTS.statement + CLIENT_TIMEOUT_MARGIN_SECONDS


@pytest.mark.postgres
async def test_a_frozen_server_fails_a_unit_of_work_within_the_statement_timeout_and_a_margin() -> (
    None
):
    url = await postgres_url()
    relay = FreezableRelay(url.host or "127.0.0.1", url.port or 5432)
    async with relay as port, _factory(url.set(host="127.0.0.1", port=port)) as factory:
        async with factory() as uow:
            await uow.channels.all()  # a pooled connection, as in service
        relay.freeze()
        on_the_pooled_connection = await _elapsed_until_unavailable(factory)
        opening_a_new_one = await _elapsed_until_unavailable(factory)
        relay.thaw()
    driver_wait = TIMEOUTS.statement + CLIENT_TIMEOUT_MARGIN_SECONDS
    assert 2 * driver_wait - 0.1 < on_the_pooled_connection < 2 * driver_wait + 0.4
    assert opening_a_new_one < TIMEOUTS.connect + 0.4
