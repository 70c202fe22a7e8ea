"""The bot speaks each person's language: their app's (Telegram's language_code),
until they choose one with /language; owners choose their channel's posts' language;
the command menus exist in every language."""

from __future__ import annotations

from core.domain.channel import Channel
from core.domain.ids import ChatId
from core.ports.languages import ChatLanguage
from tests.contract.bot.harness import SUBSCRIBER, Bot
from tests.unit.services.world import OWNER


def app_language(bot: Bot, user: int, code: str | None) -> None:
    bot.emu.users[user].language_code = code


async def test_a_person_is_answered_in_their_apps_language(bot: Bot) -> None:
    app_language(bot, SUBSCRIBER, "ru")

    answer = await bot.say(SUBSCRIBER, "/status")

    assert answer.text == (
        "У вас пока нет подписок. Нажмите на тариф в предложении канала, чтобы подписаться."  # noqa: RUF001
    )
    assert bot.deps.languages is not None
    assert await bot.deps.languages.get(ChatId(SUBSCRIBER)) == ChatLanguage("ru", chosen=False)


async def test_an_app_language_without_a_catalog_is_answered_in_english(bot: Bot) -> None:
    app_language(bot, SUBSCRIBER, "de")

    answer = await bot.say(SUBSCRIBER, "/status")

    assert answer.text.startswith("You have no subscriptions yet.")


async def test_a_chosen_language_wins_over_the_apps(bot: Bot) -> None:
    app_language(bot, SUBSCRIBER, "ru")

    chosen = await bot.say(SUBSCRIBER, "/language es")
    later = await bot.say(SUBSCRIBER, "/status")

    assert chosen.text == "A partir de ahora te hablo en español."
    assert later.text.startswith("Aún no tienes suscripciones.")


async def test_a_language_the_bot_does_not_speak_is_refused_with_the_choices(bot: Bot) -> None:
    answer = await bot.say(SUBSCRIBER, "/language klingon")

    assert answer.text == (
        "I do not speak “klingon”. Pick one of: en (English), ru (Русский), es (Español)."
    )


async def test_an_owner_chooses_the_language_of_a_channels_posts(
    bot: Bot, channel: Channel
) -> None:
    answer = await bot.say(OWNER, "/language 1 es")

    assert answer.text.startswith("Alpha Signals: its offer and Donate posts are in Spanish")
    assert bot.deps.languages is not None
    for chat in (channel.open_chat_id, channel.closed_chat_id):
        assert await bot.deps.languages.get(chat) == ChatLanguage("es", chosen=True)


async def test_only_an_owner_sets_a_channels_language(bot: Bot, channel: Channel) -> None:
    answer = await bot.say(SUBSCRIBER, "/language 1 es")

    assert answer.text == "You have no channels yet. Send /register to connect one."
    assert bot.deps.languages is not None
    assert await bot.deps.languages.get(channel.open_chat_id) is None


async def test_the_command_menus_exist_in_every_language(bot: Bot, channel: Channel) -> None:
    app_language(bot, SUBSCRIBER, "es")
    menus = bot.emu.commands
    subscribers = {code: menus[(("all_private_chats", 0, 0), code)] for code in ("", "ru", "es")}

    assert subscribers[""][0] == ("start", "what I do")
    assert subscribers["ru"][0] == ("start", "что я делаю")
    assert bot.emu.menu_in_private_chat(SUBSCRIBER)[1] == ("status", "tus suscripciones")
    owner_menu = [command for command, _ in bot.emu.menu_in_private_chat(OWNER)]
    assert owner_menu[:2] == ["channels", "register"]
    assert "language" in owner_menu
