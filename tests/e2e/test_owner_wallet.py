"""A real ``paygate bot`` process (long polling the Telegram emulator): the owner sets
their channel's payout wallet with ``/wallet``, sees it back only masked, and clears
it; the database keeps it encrypted, never in plain text."""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import select

from adapters.catalog import texts
from adapters.outbound.sqla import create_engine, upgrade
from adapters.outbound.sqla.tables import channels as channel_rows
from composition.assembly import opened_store
from composition.config import load_config
from core.domain.channel import Channel, PayoutWallet
from core.domain.ids import ChannelId, ChatId, UserId
from sandbox.telegram.server import TelegramEmulator
from tests.e2e.emulated import open_emulators
from tests.e2e.processes import fleet_in
from tests.e2e.test_journey_processes import bot_texts

OWNER = 7201
OPEN, CLOSED = -1_001_720_000_001, -1_001_720_000_002
ADDRESS = "bc1qar0srrr7xfkvy5l643lydnw9re59gtzzwf5mdq"


async def _answer(telegram: TelegramEmulator, user: int, count: int, within: float = 20.0) -> str:
    """The bot's ``count``-th message to ``user``."""
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        answers = bot_texts(telegram, user)
        if len(answers) >= count:
            return answers[count - 1]
        await asyncio.sleep(0.1)
    raise AssertionError(f"the bot sent user {user} fewer than {count} messages in {within:.0f} s")


async def test_the_owner_sets_sees_masked_and_clears_the_payout_wallet(tmp_path: Path) -> None:
    async with open_emulators(tmp_path / "paygate.db") as emulated:
        env = emulated.env
        config = load_config(env, dotenv=tmp_path / "none.env")
        await asyncio.to_thread(upgrade, config.database_url, "head")
        telegram = emulated.telegram
        telegram.add_user(OWNER, "Olive")
        telegram.add_chat(OPEN, "channel", "Alpha open", creator_id=OWNER)
        telegram.add_chat(CLOSED, "channel", "Alpha closed", creator_id=OWNER)
        channel = Channel(
            ChannelId("ch-w"),
            UserId(OWNER),
            ChatId(OPEN),
            ChatId(CLOSED),
            "Alpha news",
            datetime.now(UTC),
        )
        async with opened_store(config) as store, store.uow() as tx:
            await tx.channels.add(channel)
            await tx.commit()
        with fleet_in(tmp_path) as fleet:
            bot = fleet.add("bot", "bot", env)
            await fleet.start_all()
            said: list[str] = []
            for command in ("/wallet", f"/wallet 1 BTC {ADDRESS}", "/wallet"):
                telegram.user_sends(OWNER, command)
                said.append(await _answer(telegram, OWNER, len(said) + 1))
            async with opened_store(config) as store, store.uow() as tx:
                stored = (await tx.channels.get(channel.id)).payout_wallet
            raw = await _raw_wallet(config.database_url)
            telegram.user_sends(OWNER, "/wallet 1 off")
            said.append(await _answer(telegram, OWNER, len(said) + 1))
            codes = await fleet.stop_all()
        async with opened_store(config) as store, store.uow() as tx:
            cleared = (await tx.channels.get(channel.id)).payout_wallet
            audit = [(e.action, dict(e.details)) for e in await tx.audit.all()]
    assert codes == {"bot": 0}, bot.tail()
    masked = "BTC bc1qar…5mdq"
    assert said[0].splitlines()[0] == "1. Alpha news: not set"
    assert said[1] == f"Alpha news: payouts go to {masked}."
    assert said[2].splitlines()[0] == f"1. Alpha news: {masked}"
    assert said[3] == texts.wallet_saved(channel)
    assert all(ADDRESS not in text for text in said)
    assert stored == PayoutWallet(ADDRESS, "btc")
    assert raw is not None and ADDRESS.encode() not in raw
    assert cleared is None
    assert audit == [
        ("channel.payout_wallet_set", {"wallet": masked}),
        ("channel.payout_wallet_set", {}),
    ]


async def _raw_wallet(url: str) -> bytes | None:
    """The payout wallet column as the database holds it."""
    engine = create_engine(url, pool_size=1, max_overflow=0)
    try:
        async with engine.connect() as conn:
            value = (await conn.execute(select(channel_rows.c.payout_wallet))).scalar_one()
    finally:
        await engine.dispose()
    return None if value is None else bytes(value)
