"""Fixtures of the HTTP edge's tests: a shop over the in-memory store and the real
NowPayments gateway."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from adapters.outbound.memory import InMemoryUnitOfWorkFactory
from adapters.outbound.nowpayments.gateway import NowPaymentsGateway
from tests.contract.http.shop import Shop, build_shop, nowpayments_gateway


@pytest.fixture
def shop() -> Shop:
    return build_shop(InMemoryUnitOfWorkFactory())


@pytest.fixture
async def gateway() -> AsyncIterator[NowPaymentsGateway]:
    async with nowpayments_gateway() as gateway:
        yield gateway
