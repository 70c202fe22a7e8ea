"""A worker process keeps the offer and Donate posts in step with the channel.

``paygate worker`` as composed for production (configuration from the environment,
SQLite, its job loops) against the Telegram emulator; the owner's changes go through
the same use cases the bot's commands call, and time moves through the clock-offset
file. The evidence is what the channels show in the emulator and the Bot API calls
it answered."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import TypeVar

from adapters.outbound.sqla import upgrade
from composition.config import load_config
from composition.demo.clock import SharedClockFile
from composition.processes.process import Roles, start_process
from core.domain.channel import Channel, DonationBounds
from core.domain.ids import ChatId, UserId
from core.domain.money import Money
from core.domain.tier import Tier
from sandbox.telegram.model import Message
from sandbox.telegram.server import TelegramEmulator
from tests.e2e.emulated import open_emulators

OWNER = UserId(1001)
OPEN = ChatId(-1001000000001)
CLOSED = ChatId(-1001000000002)
TIERS = (Tier(1, Money.of(10, "USD"), 30),)
BOUNDS = DonationBounds(Money.of(1, "USD"), Money.of(500, "USD"))

T = TypeVar("T")


async def until(check: Callable[[], T], what: str, within: float = 15.0) -> T:
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        result = check()
        if result:
            return result
        await asyncio.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


def offers(telegram: TelegramEmulator) -> list[Message]:
    return [m for m in telegram.messages(OPEN) if m.text.startswith("Subscribe to")]


def donates(telegram: TelegramEmulator) -> list[Message]:
    return [m for m in telegram.messages(CLOSED) if "donation" in m.text]


def answered(telegram: TelegramEmulator, method: str, chat: ChatId, fragment: str) -> int:
    """How many ``method`` calls to ``chat`` Telegram answered with ``fragment``
    (``ok`` for a success)."""
    return sum(
        1
        for c in telegram.calls_to(method)
        if int(c.params.get("chat_id", 0)) == chat
        and (c.ok if fragment == "ok" else fragment in (c.description or ""))
    )


async def test_a_worker_process_keeps_the_posts_in_step_with_the_channel(
    tmp_path: Path,
) -> None:
    async with open_emulators(tmp_path / "posts.db") as emulated:
        telegram = emulated.telegram
        telegram.add_user(OWNER, "Olivia")
        telegram.add_chat(OPEN, "channel", "Alpha Signals", creator_id=OWNER)
        telegram.add_chat(CLOSED, "channel", "Alpha Signals VIP", creator_id=OWNER)
        clock = SharedClockFile(tmp_path / "clock-offset")
        env = emulated.env | {
            "PAYGATE_CLOCK_OFFSET_FILE": str(clock.path),
            "PAYGATE_BROADCAST_EVERY_SECONDS": "0.1",
        }
        config = load_config(env, dotenv=tmp_path / "none.env")
        await asyncio.to_thread(upgrade, config.database_url, "head")
        process = await start_process(config, Roles(worker=True))
        try:
            owner = process.services
            channel = await owner.register_channel.execute(OWNER, OPEN, CLOSED, "Alpha Signals")

            async def until_stored(check: Callable[[Channel], bool], what: str) -> None:
                """Wait for the worker to record what it did: a post counts as fresh
                from its record, so the clock moves on only after that."""
                deadline = time.monotonic() + 15
                while time.monotonic() < deadline:
                    async with owner.uow() as tx:
                        if check(await tx.channels.get(channel.id)):
                            return
                    await asyncio.sleep(0.05)
                raise AssertionError(f"timed out waiting for {what}")

            await owner.set_tiers.execute(OWNER, channel.id, TIERS)
            await owner.set_donations.execute(OWNER, channel.id, BOUNDS)
            await until(lambda: offers(telegram) and donates(telegram), "both posts")
            first = donates(telegram)[0]
            await until_stored(lambda c: c.donate_post is not None, "the Donate post recorded")

            # An hour on, the Donate post is edited in place: unchanged, so Telegram
            # answers "message is not modified" and nothing new is posted.
            clock.advance(timedelta(hours=1, minutes=1))
            advanced = owner.clock.now()
            await until(
                lambda: answered(telegram, "editMessageText", CLOSED, "not modified"),
                "the Donate post's check",
            )
            assert [m.message_id for m in donates(telegram)] == [first.message_id]
            assert answered(telegram, "sendMessage", CLOSED, "ok") == 1
            await until_stored(
                lambda c: c.donate_post is not None and c.donate_post.posted_at >= advanced,
                "the check recorded",
            )

            # An admin deletes it by hand: the next check finds it gone and posts it again.
            telegram.admin_deletes_message(CLOSED, first.message_id)
            clock.advance(timedelta(hours=1, minutes=1))
            again = await until(lambda: donates(telegram), "the Donate post back")
            assert answered(telegram, "editMessageText", CLOSED, "message to edit not found")
            assert len(again) == 1
            assert again[0].message_id != first.message_id
            assert again[0].text == first.text

            await owner.set_donations.execute(OWNER, channel.id, None)
            await until(lambda: not donates(telegram), "the Donate post taken down")
            await owner.set_tiers.execute(OWNER, channel.id, ())
            await until(lambda: not offers(telegram), "the offer taken down")
            await until_stored(
                lambda c: (c.offer_post, c.donate_post) == (None, None), "both take-downs recorded"
            )

            await owner.set_tiers.execute(OWNER, channel.id, TIERS)
            await owner.set_donations.execute(OWNER, channel.id, BOUNDS)
            await until(lambda: offers(telegram) and donates(telegram), "both posts back")
            await owner.sales.pause(OPEN, "the owner paused sales")
            await until(lambda: not offers(telegram) and not donates(telegram), "both posts down")
            await owner.sales.resume(OPEN)
            await until(lambda: offers(telegram) and donates(telegram), "both posts again")
            await asyncio.sleep(0.5)  # a few more rounds: still one of each
            assert (len(offers(telegram)), len(donates(telegram))) == (1, 1)
        finally:
            await process.close()
