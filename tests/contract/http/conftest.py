"""Fixtures of the HTTP edge's tests: a shop over the in-memory store and the real
NowPayments gateway."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from adapters.outbound.memory import InMemoryUnitOfWorkFactory
from adapters.outbound.nowpayments.gateway import NowPaymentsGateway
from composition.assembly import database_config, opened_store
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
    config = database_config("postgresql+asyncpg://paygate@127.0.0.1:1/paygate")
    async with opened_store(config) as store:
        yield build_shop(store.uow)
