"""/help and the command menus by role: a subscriber's, an owner's, an operator's.
Every command the bot answers is listed for whoever may use it, and each person's
menu (setMyCommands) holds exactly what their /help lists as commands."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import attrs
import pytest

from adapters.catalog import texts
from adapters.inbound.telegram import BotDeps
from core.domain.ids import UserId
from tests.contract.bot.harness import SUBSCRIBER, Bot, bot_deps, polling_bot
from tests.unit.services.world import OWNER, World, build

OPERATOR = UserId(2099)
BOT_CODE = Path(__file__).resolve().parents[3] / "adapters" / "inbound" / "telegram"
HANDLED = re.compile(r"""(?:CommandHandler|\bcommand)\(\s*"(\w+)\"""")
LISTED = re.compile(r"^• /(\w+) — ", re.MULTILINE)


def with_operator() -> Callable[[World], BotDeps]:
    def deps(world: World) -> BotDeps:
        return attrs.evolve(bot_deps(world), operators=frozenset({OPERATOR}))

    return deps


@pytest.fixture
async def bot() -> AsyncIterator[Bot]:
    world = build()
    await world.channel()
    async with polling_bot(world, with_operator()) as running:
        running.emu.add_user(OPERATOR, "Opal", username="opal")
        # The menus went out at start, before the operator had a chat with the bot;
        # choosing a language publishes theirs again.
        await running.say(OPERATOR, "/language en")
        yield running


def handled_commands() -> set[str]:
    """Every command some handler of the bot answers (read from its code)."""
    found: set[str] = set()
    for path in BOT_CODE.rglob("*.py"):
        found |= set(HANDLED.findall(path.read_text(encoding="utf-8")))
    return found


def test_the_bot_handles_the_commands_this_test_expects() -> None:
    assert {"start", "help", "register", "wording", "owners", "refund", "wallet"} <= (
        handled_commands()
    )


async def test_an_operator_reads_every_command_the_bot_answers(bot: Bot) -> None:
    answer = await bot.say(OPERATOR, "/help")

    assert set(LISTED.findall(answer.text)) == handled_commands()
    assert "Operators" in answer.text


@pytest.mark.parametrize(
    ("who", "menu"),
    [
        (SUBSCRIBER, texts.subscriber_commands),
        (OWNER, texts.owner_commands),
        (OPERATOR, texts.operator_commands),
    ],
    ids=["subscriber", "owner", "operator"],
)
async def test_each_persons_menu_lists_what_their_help_lists(
    bot: Bot, who: UserId, menu: Callable[[], list[tuple[str, str]]]
) -> None:
    answer = await bot.say(who, "/help")

    listed = LISTED.findall(answer.text)
    assert sorted(listed) == sorted(command for command, _ in menu())
    assert [c for c, _ in bot.emu.menu_in_private_chat(who)] == [c for c, _ in menu()]


async def test_an_owner_reads_no_operator_command(bot: Bot) -> None:
    answer = await bot.say(OWNER, "/help")

    assert "/owners" not in answer.text
    assert "Operators" not in answer.text
