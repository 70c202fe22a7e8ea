"""Owners in the bot: /bundle shows, adds to and takes from the channels a channel's
subscription also opens."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from core.domain.ids import UserId
from tests.contract.bot.harness import STRANGER, Bot, polling_bot
from tests.contract.test_bundles import channel_of
from tests.unit.services.world import OWNER, build


@pytest.fixture
async def bot() -> AsyncIterator[Bot]:
    """Alpha Signals (channel 1), Beta VIP (2) and Gamma VIP (3), all the owner's."""
    world = build()
    await world.channel()
    await channel_of(world, 1, "Beta VIP")
    await channel_of(world, 2, "Gamma VIP")
    async with polling_bot(world) as running:
        yield running


async def test_bundle_adds_channels_and_says_what_the_subscription_opens(bot: Bot) -> None:
    answer = await bot.say(OWNER, "/bundle 1 add 2 3")

    assert answer.text.splitlines() == [
        "Alpha Signals: a subscription also opens the closed channels of:",
        "• 2. Beta VIP",
        "• 3. Gamma VIP",
        "The offer in the open channel is refreshed shortly.",
    ]
    async with bot.world.uow() as tx:
        home = (await tx.channels.by_owner(OWNER))[0]
        assert len(await tx.bundles.members(home.id)) == 2


async def test_bundle_shows_and_removes(bot: Bot) -> None:
    await bot.say(OWNER, "/bundle 1 add 2 3")

    shown = await bot.say(OWNER, "/bundle 1")
    removed = await bot.say(OWNER, "/bundle 1 remove 2")
    emptied = await bot.say(OWNER, "/bundle 1 remove 3")

    assert shown.text.splitlines()[1:] == ["• 2. Beta VIP", "• 3. Gamma VIP"]
    assert removed.text.splitlines()[1:-1] == ["• 3. Gamma VIP"]
    assert emptied.text.splitlines()[0] == (
        "Alpha Signals: a subscription opens its own closed channel only. "
        "Add others with /bundle 1 add <channels>."
    )


async def test_bundle_without_its_words_explains_itself(bot: Bot) -> None:
    for wrong in ("/bundle", "/bundle 1 add", "/bundle 1 join 2"):
        answer = await bot.say(OWNER, wrong)
        assert "/bundle <channel> add <channels>" in answer.text


async def test_bundle_refuses_a_channel_in_its_own_bundle_and_saves_nothing(bot: Bot) -> None:
    refused = await bot.say(OWNER, "/bundle 1 add 2 1")

    assert refused.text == "A channel is always part of its own subscription."
    async with bot.world.uow() as tx:
        home = (await tx.channels.by_owner(OWNER))[0]
        assert await tx.bundles.members(home.id) == []


async def test_someone_without_channels_cannot_bundle_anything(bot: Bot) -> None:
    answer = await bot.say(UserId(STRANGER), "/bundle 1 add 2")
    assert answer.text.startswith("You have no channels yet")


async def test_help_names_bundles(bot: Bot) -> None:
    answer = await bot.say(OWNER, "/help")
    assert "/bundle 1 add 2 3" in answer.text
