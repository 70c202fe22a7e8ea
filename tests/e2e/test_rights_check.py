"""The worker's rights check, in a worker process composed as ``paygate worker``
composes it, against the Telegram emulator: sales paused by a refused post resume by
themselves once Telegram says the bot holds its rights in both chats, and the owner
hears of it. No bot process runs, so no ``my_chat_member`` update can be what
resumed them."""

from __future__ import annotations

import asyncio
import time
from decimal import Decimal
from pathlib import Path

from adapters.outbound.sqla import upgrade
from composition.config import Config, load_config
from composition.processes.process import Roles, start_process
from composition.processes.run import starters_for
from core.domain.ids import ChannelId, ChatId, UserId
from core.domain.money import Money
from core.domain.tier import Tier
from tests.e2e.emulated import open_emulators

OWNER = 1001
OPEN_CHAT = -1002000000001
CLOSED_CHAT = -1002000000002
WITHIN = 15.0


async def _paused_channel(config: Config) -> ChannelId:
    """The owner's channel, registered through the use cases (the owner created both
    chats), then paused as a post Telegram refused pauses it."""
    setup = await start_process(config, Roles())
    try:
        services = setup.services
        channel = await services.register_channel.execute(
            UserId(OWNER), ChatId(OPEN_CHAT), ChatId(CLOSED_CHAT), "Alpha"
        )
        await services.set_tiers.execute(
            UserId(OWNER), channel.id, (Tier(1, Money.of(Decimal(10), "USD"), 30),)
        )
        await services.sales.pause(ChatId(OPEN_CHAT), "the bot cannot post there (chat not found)")
    finally:
        await setup.close()
    return channel.id


async def test_a_worker_resumes_sales_the_bot_has_the_rights_for(tmp_path: Path) -> None:
    async with open_emulators(tmp_path / "paygate.db") as emulated:
        telegram = emulated.telegram
        env = emulated.env | {"PAYGATE_RIGHTS_CHECK_EVERY_SECONDS": "1"}
        config = load_config(env, dotenv=tmp_path / "none.env")
        await asyncio.to_thread(upgrade, config.database_url, "head")
        telegram.add_user(OWNER, "Olivia")
        telegram.add_chat(OPEN_CHAT, "channel", "Alpha", creator_id=OWNER)
        telegram.add_chat(CLOSED_CHAT, "channel", "Alpha VIP", creator_id=OWNER)
        channel_id = await _paused_channel(config)

        roles = Roles(worker=True)
        worker = await start_process(config, roles, starters=starters_for(roles))
        try:
            assert worker.loops is not None and "rights" in worker.loops.names
            started = time.monotonic()
            told: list[str] = []
            while time.monotonic() - started < WITHIN:
                told = [
                    m.text
                    for m in telegram.messages(OWNER)
                    if m.from_id == telegram.bot.id and "back on" in m.text
                ]
                if told:
                    break
                await asyncio.sleep(0.1)
            async with worker.services.uow() as tx:
                channel = await tx.channels.get(channel_id)
        finally:
            await worker.close()

    assert (channel.sales_paused, channel.pause_reason) == (False, None)
    assert told == [
        "Sales of Alpha are back on: the bot has the rights it needs in both chats again."
    ]
