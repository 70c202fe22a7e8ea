"""Whether the database takes writes: what readiness asks before a load balancer
sends this process payment notifications it could only answer 503.

A database that answers reads but refuses writes (a replica left after a failover,
``default_transaction_read_only``, a read-only SQLite file) fails every payment;
readiness then fails too, naming the database. Nothing is written: on Postgres the
session says whether its transactions are read-only (``transaction_read_only``,
also on for a hot standby); SQLite cannot tell without trying, so a no-op update of
Alembic's bookkeeping row is tried and rolled back.
"""

from __future__ import annotations

from sqlalchemy import Column, MetaData, String, Table, func, select, update
from sqlalchemy.ext.asyncio import AsyncEngine

from adapters.outbound.sqla.errors import translated
from core.ports.errors import Unavailable

__all__ = ["check_writable"]

_ACTION = "check that the database takes writes"

_alembic_version = Table(
    "alembic_version", MetaData(), Column("version_num", String(32), primary_key=True)
)
_TRY_A_WRITE = update(_alembic_version).values(version_num=_alembic_version.c.version_num)
_READ_ONLY = select(
    # current_setting() as a plain function call: no table, nothing locked.
    func.current_setting("transaction_read_only")
)


async def check_writable(engine: AsyncEngine) -> None:
    """Returns when the database answers and takes writes; raises Unavailable."""
    with translated(_ACTION):
        async with engine.connect() as conn:
            await conn.begin()
            try:
                if conn.dialect.name == "postgresql":
                    read_only = (await conn.execute(_READ_ONLY)).scalar_one() == "on"
                else:
                    await conn.execute(_TRY_A_WRITE)
                    read_only = False
            finally:
                await conn.rollback()
    if read_only:
        raise Unavailable(f"{_ACTION}: the database is read-only")
