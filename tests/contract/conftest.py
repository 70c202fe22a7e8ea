"""Fixtures of the persistence contract suites: every test runs once per backend."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from core.ports.repositories import UnitOfWorkFactory
from tests.contract.backends import BACKENDS


@pytest.fixture(params=list(BACKENDS), ids=list(BACKENDS))
async def uow_factory(request: pytest.FixtureRequest) -> AsyncIterator[UnitOfWorkFactory]:
    backend = BACKENDS[request.param]
    async with backend() as factory:
        yield factory
