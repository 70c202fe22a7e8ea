"""Fixtures of the SQL-specific suites: engines on a migrated, empty database."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from adapters.outbound.crypto import FernetCipher
from adapters.outbound.sqla import SqlUnitOfWorkFactory
from tests.contract.backends_sql import make_cipher, postgres_engine, sqlite_engine


@pytest.fixture(params=["sqlite", "postgres"])
async def engine(request: pytest.FixtureRequest) -> AsyncIterator[AsyncEngine]:
    opener = sqlite_engine if request.param == "sqlite" else postgres_engine
    async with opener() as opened:
        yield opened


@pytest.fixture
def cipher() -> FernetCipher:
    return make_cipher()


@pytest.fixture
def uow_factory(engine: AsyncEngine, cipher: FernetCipher) -> SqlUnitOfWorkFactory:
    return SqlUnitOfWorkFactory(engine, cipher)
