"""Fixtures of the HTTP edge's tests: a shop over the in-memory store and the real
NowPayments gateway."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from adapters.outbound.memory import InMemoryUnitOfWorkFactory
from adapters.outbound.nowpayments.gateway import NowPaymentsGateway
from adapters.outbound.sqla import SqlUnitOfWorkFactory, create_engine
from tests.contract.backends_sql import make_cipher
from tests.contract.http.shop import Shop, build_shop, nowpayments_gateway


@pytest.fixture
def shop() -> Shop:
    return build_shop(InMemoryUnitOfWorkFactory())


@pytest.fixture
async def gateway() -> AsyncIterator[NowPaymentsGateway]:
    async with nowpayments_gateway() as gateway:
        yield gateway


@pytest.fixture
async def dead_database_shop() -> AsyncIterator[Shop]:
    """A shop whose database refuses every connection at once (nothing listens on
    port 1): every unit of work is Unavailable."""
    engine = create_engine("postgresql+asyncpg://paygate@127.0.0.1:1/paygate")
    try:
        yield build_shop(SqlUnitOfWorkFactory(engine, make_cipher()))
    finally:
        await engine.dispose()
