"""Fixtures of the Redis adapter tests: a key prefix no other test uses, and a client
that deletes every key under it when the test ends (skips, or fails under CI, without
a Redis server)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from redis.asyncio import Redis

from tests.contract.backends_redis import redis_client, unique_prefix


@pytest.fixture
def prefix() -> str:
    return unique_prefix()


@pytest.fixture
async def client(prefix: str) -> AsyncIterator[Redis]:
    async with redis_client(prefix) as client:
        yield client
