from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from core.domain.channel import Channel
from tests.contract.bot.harness import Bot, polling_bot
from tests.unit.services.world import build


@pytest.fixture
async def bot() -> AsyncIterator[Bot]:
    """The bot polling the emulator; OWNER's channel pair is registered with two tiers
    (30 days for 10 USD, 90 days for 25 USD) and donations of 1 to 500 USD."""
    world = build()
    await world.channel()
    async with polling_bot(world) as running:
        yield running


@pytest.fixture
async def channel(bot: Bot) -> Channel:
    async with bot.world.uow() as tx:
        (only,) = await tx.channels.all()
    return only
