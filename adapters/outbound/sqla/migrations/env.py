"""Alembic environment: runs migrations on the async engine PayGate itself uses."""

from __future__ import annotations

import asyncio

from alembic import context
from sqlalchemy.engine import URL, Connection

from adapters.outbound.sqla.engine import create_engine
from adapters.outbound.sqla.migrate import URL_ATTRIBUTE
from adapters.outbound.sqla.tables import metadata


def _migrate(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=metadata,
        # SQLite cannot ALTER most things in place: batch mode copies the table.
        render_as_batch=connection.dialect.name == "sqlite",
    )
    with context.begin_transaction():
        context.run_migrations()


async def _run(url: URL) -> None:
    engine = create_engine(url, pool_size=1, max_overflow=0)
    try:
        async with engine.connect() as connection:
            await connection.run_sync(_migrate)
            await connection.commit()
    finally:
        await engine.dispose()


def main() -> None:
    if context.is_offline_mode():
        raise RuntimeError("PayGate migrates a live database; offline SQL scripts are not used")
    asyncio.run(_run(context.config.attributes[URL_ATTRIBUTE]))


main()
