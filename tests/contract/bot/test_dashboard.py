"""/dashboard in the bot: owners and operators get a login button that opens the web
dashboard signed in; anyone else a polite answer and no link."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from urllib.parse import parse_qsl, urlsplit

import attrs
import pytest

from adapters.inbound.http.dashboard.telegram_login import verify_login
from adapters.inbound.telegram import BotDeps
from core.domain.ids import UserId
from tests.contract.bot.harness import STRANGER, Bot, bot_deps, button, polling_bot
from tests.unit.services.world import OWNER, World, build

LOGIN = "https://paygate.example.test/dashboard/login"
OPERATOR = UserId(2099)


def with_dashboard(login_url: str | None) -> Callable[[World], BotDeps]:
    def deps(world: World) -> BotDeps:
        return attrs.evolve(
            bot_deps(world), dashboard_login_url=login_url, operators=frozenset({OPERATOR})
        )

    return deps


@pytest.fixture
async def bot() -> AsyncIterator[Bot]:
    world = build()
    await world.channel()
    async with polling_bot(world, with_dashboard(LOGIN)) as running:
        running.emu.add_user(OPERATOR, "Opal", username="opal")
        yield running


async def test_an_owner_gets_a_login_button_telegram_signs_with_who_they_are(bot: Bot) -> None:
    answer = await bot.say(OWNER, "/dashboard")

    assert answer.text.startswith("Your dashboard: earnings")
    assert button(answer, "Open the dashboard") == {
        "text": "Open the dashboard",
        "login_url": {"url": LOGIN},
    }
    opened = bot.emu.user_opens_login(
        OWNER, answer.chat_id, answer.message_id, "Open the dashboard"
    )
    assert opened.startswith(LOGIN + "?")
    query = dict(parse_qsl(urlsplit(opened).query))
    identity = verify_login(query, (bot.emu.token,), bot.world.clock.now())
    assert identity.user_id == OWNER
    assert query["username"] == "olivia"


async def test_an_operator_without_channels_gets_the_button_too(bot: Bot) -> None:
    answer = await bot.say(OPERATOR, "/dashboard")

    assert button(answer, "Open the dashboard")["login_url"] == {"url": LOGIN}


async def test_someone_who_owns_nothing_is_told_politely_and_gets_no_link(bot: Bot) -> None:
    answer = await bot.say(STRANGER, "/dashboard")

    assert answer.text == (
        "The dashboard is for channel owners. Send /register to connect a channel first."
    )
    assert answer.reply_markup is None


async def test_the_answer_reads_in_the_persons_language(bot: Bot) -> None:
    await bot.say(OWNER, "/language es")
    answer = await bot.say(OWNER, "/dashboard")

    assert answer.text.startswith("Tu panel: ingresos")
    assert button(answer, "Abrir el panel")["login_url"] == {"url": LOGIN}


async def test_without_a_dashboard_the_bot_says_there_is_none() -> None:
    world = build()
    await world.channel()
    async with polling_bot(world, with_dashboard(None)) as running:
        answer = await running.say(OWNER, "/dashboard")

    assert answer.text == "This PayGate has no web dashboard."
    assert answer.reply_markup is None
