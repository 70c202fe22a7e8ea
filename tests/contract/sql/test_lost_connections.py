"""The Postgres pool does no ping before each use and no reset on return (each would
cost every payment a round trip). What that must not cost:

- when the server drops the pooled connections (a restart, a failover), at most one
  unit of work fails, with Unavailable (the provider retries a 503), and the next work;
- a unit of work never hands back a connection inside a transaction.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine
from sqlalchemy.pool import NullPool

from adapters.outbound.sqla import SqlUnitOfWorkFactory
from core.ports.errors import Unavailable
from tests.contract.backends_sql import make_cipher, postgres_engine

POOLED = 4
TERMINATE_OTHERS = text(
    "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
    "WHERE datname = current_database() AND pid <> pg_backend_pid()"
)
STATES_OF_OTHERS = text(
    "SELECT state FROM pg_stat_activity "
    "WHERE datname = current_database() AND pid <> pg_backend_pid()"
)


@asynccontextmanager
async def _server_side(engine: AsyncEngine) -> AsyncIterator[AsyncConnection]:
    """A connection outside the pool under test, as an operator's psql would be."""
    admin = create_async_engine(engine.url, poolclass=NullPool, isolation_level="AUTOCOMMIT")
    try:
        async with admin.connect() as conn:
            yield conn
    finally:
        await admin.dispose()


async def test_after_the_server_drops_the_pool_one_unit_of_work_fails_and_the_rest_work() -> None:
    async with postgres_engine(pool_size=POOLED, max_overflow=0) as engine:
        factory = SqlUnitOfWorkFactory(engine, make_cipher())

        async def read_channels() -> int:
            async with factory() as uow:
                await asyncio.sleep(0.05)  # held a while, so the pool opens several
                return len(await uow.channels.all())

        assert await asyncio.gather(*(read_channels() for _ in range(POOLED))) == [0] * POOLED
        async with _server_side(engine) as server:
            killed = await server.execute(TERMINATE_OTHERS)
            assert killed.scalar_one() == POOLED

        outcomes: list[str] = []
        for _ in range(POOLED + 2):
            try:
                await read_channels()
                outcomes.append("ok")
            except Unavailable:
                outcomes.append("unavailable")

    assert outcomes.count("unavailable") <= 1, outcomes
    assert outcomes[-POOLED:] == ["ok"] * POOLED


async def test_a_failed_unit_of_work_hands_back_its_connection_outside_a_transaction() -> None:
    async with postgres_engine(pool_size=2, max_overflow=0) as engine:
        factory = SqlUnitOfWorkFactory(engine, make_cipher())

        async def fail_half_way() -> None:
            async with factory() as uow:
                await uow.channels.all()
                await asyncio.sleep(0.02)
                raise RuntimeError("the use case failed half-way")

        for outcome in await asyncio.gather(
            *(fail_half_way() for _ in range(4)), return_exceptions=True
        ):
            assert isinstance(outcome, RuntimeError)
        async with _server_side(engine) as server:
            states = await server.execute(STATES_OF_OTHERS)
            assert sorted(states.scalars()) == ["idle", "idle"]
