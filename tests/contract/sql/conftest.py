"""Fixtures of the SQL-specific suites: engines on a migrated, empty database."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy.engine import URL
from sqlalchemy.ext.asyncio import AsyncEngine

from adapters.outbound.crypto import FernetCipher
from adapters.outbound.sqla import SqlUnitOfWorkFactory
from tests.contract.backends_sql import (
    blank_postgres_database,
    make_cipher,
    postgres_engine,
    sql_uow,
    sqlite_engine,
    sqlite_url,
)


@pytest.fixture(params=["sqlite", "postgres"])
async def engine(request: pytest.FixtureRequest) -> AsyncIterator[AsyncEngine]:
    opener = sqlite_engine if request.param == "sqlite" else postgres_engine
    async with opener() as opened:
        yield opened


@pytest.fixture(params=["sqlite", "postgres"])
async def blank_url(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[URL]:
    """A database with nothing in it yet (not migrated), dropped afterwards."""
    if request.param == "sqlite":
        yield sqlite_url(tmp_path / "blank.db")
        return
    async with blank_postgres_database() as url:
        yield url


@pytest.fixture
def cipher() -> FernetCipher:
    return make_cipher()


@pytest.fixture
def uow_factory(engine: AsyncEngine, cipher: FernetCipher) -> SqlUnitOfWorkFactory:
    return sql_uow(engine, cipher)
