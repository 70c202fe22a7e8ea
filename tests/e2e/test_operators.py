"""A real ``paygate bot`` process (long polling the Telegram emulator) with
``PAYGATE_OPERATOR_IDS``: an operator's ``/owners`` lists every owner, their channels
and each one's status; anyone else is told the command is not theirs and sees none of
it."""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime
from pathlib import Path

from adapters.catalog import texts
from adapters.outbound.sqla import upgrade
from composition.assembly import opened_store
from composition.config import load_config
from core.domain.channel import Channel
from core.domain.ids import ChannelId, ChatId, UserId
from core.domain.money import Money
from core.domain.tier import Tier
from sandbox.telegram.server import TelegramEmulator
from tests.e2e.emulated import open_emulators
from tests.e2e.processes import fleet_in
from tests.e2e.test_journey_processes import bot_texts

OPERATOR, STRANGER = 7001, 7002
OWNER_A, OWNER_B = 8001, 8002


async def _answer(telegram: TelegramEmulator, user: int, within: float = 20.0) -> str:
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        answers = bot_texts(telegram, user)
        if answers:
            return answers[-1]
        await asyncio.sleep(0.1)
    raise AssertionError(f"the bot did not answer user {user} within {within:.0f} s")


async def test_an_operator_lists_owners_and_a_stranger_is_told_politely(tmp_path: Path) -> None:
    async with open_emulators(tmp_path / "paygate.db") as emulated:
        env = emulated.env | {"PAYGATE_OPERATOR_IDS": f"{OPERATOR}"}
        config = load_config(env, dotenv=tmp_path / "none.env")
        await asyncio.to_thread(upgrade, config.database_url, "head")
        now = datetime.now(UTC)
        async with opened_store(config) as store, store.uow() as tx:
            await tx.channels.add(
                Channel(
                    ChannelId("ch-a"),
                    UserId(OWNER_A),
                    ChatId(-1001),
                    ChatId(-1002),
                    "Alpha news",
                    now,
                    tiers=(Tier(1, Money.of(10, "USD"), 30),),
                )
            )
            await tx.channels.add(
                Channel(
                    ChannelId("ch-b"),
                    UserId(OWNER_B),
                    ChatId(-1003),
                    ChatId(-1004),
                    "Beta club",
                    now,
                    sales_paused=True,
                    pause_reason="the bot lost its rights",
                )
            )
            await tx.commit()
        telegram = emulated.telegram
        telegram.add_user(OPERATOR, "Operator")
        telegram.add_user(STRANGER, "Stranger")
        with fleet_in(tmp_path) as fleet:
            bot = fleet.add("bot", "bot", env)
            await fleet.start_all()
            telegram.user_sends(OPERATOR, "/owners")
            listing = await _answer(telegram, OPERATOR)
            telegram.user_sends(STRANGER, "/owners")
            refusal = await _answer(telegram, STRANGER)
            codes = await fleet.stop_all()
    assert codes == {"bot": 0}, bot.tail()
    assert listing.splitlines() == [
        f"Owner {OWNER_A} (1 channel):",
        "  • Alpha news (selling)",
        f"Owner {OWNER_B} (1 channel):",
        "  • Beta club (paused (the bot lost its rights))",
    ]
    assert refusal == texts.not_an_operator()
