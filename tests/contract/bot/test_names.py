"""The bot keeps the username each person shows it (the dashboard finds subscribers
by it): noted on their updates, changed when they change it, forgotten when they
remove it."""

from __future__ import annotations

from core.domain.ids import UserId
from tests.contract.bot.harness import SUBSCRIBER, Bot


async def test_the_username_a_person_shows_is_kept_and_follows_their_changes(bot: Bot) -> None:
    names = bot.deps.names
    assert names is not None
    bot.emu.users[SUBSCRIBER].username = "Sub_Scriber"

    await bot.say(SUBSCRIBER, "/status")
    assert await names.name_of(UserId(SUBSCRIBER)) == "sub_scriber"

    bot.emu.users[SUBSCRIBER].username = "renamed_sub"
    await bot.say(SUBSCRIBER, "/status")
    assert await names.name_of(UserId(SUBSCRIBER)) == "renamed_sub"

    bot.emu.users[SUBSCRIBER].username = None
    await bot.say(SUBSCRIBER, "/status")
    assert await names.name_of(UserId(SUBSCRIBER)) is None
