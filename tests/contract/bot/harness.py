"""The real bot (python-telegram-bot Application) against the Telegram emulator over
loopback, with the core wired on in-memory adapters (tests/unit/services/world.py).

People act through the emulator (they type, press buttons, open links); the bot
answers through the Bot API; tests read what the emulator shows each person and what
the core's store keeps. The emulator's clock is the core's FrozenClock, so message
dates and the core agree on what time it is.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from datetime import timedelta
from typing import Any, TypeVar

import attrs
from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from adapters.inbound.telegram import BotDeps, BotRunner, BotSettings, build_bot_application
from adapters.outbound.memory.conversations import InMemoryConversationStore
from adapters.outbound.memory.languages import InMemoryLanguageBook
from adapters.outbound.memory.rate_limiter import InMemoryRateLimiter
from adapters.outbound.memory.subscriber_directory import InMemoryPersonNames
from adapters.outbound.system.ids import RandomIdGenerator
from core.domain.ids import UserId
from core.ports.conversations import ConversationStore
from core.services.stars_link import StarsLinkMembers, SwitchStarsLink
from sandbox.telegram import FloodLimits, Message, TelegramEmulator
from tests.unit.services.world import CLOSED, KEYRING, OPEN, OWNER, World, build

SUBSCRIBER = UserId(2001)
STRANGER = UserId(2002)
DONOR = UserId(2003)
BOT_USERNAME = "paygate_test_bot"

T = TypeVar("T")


@attrs.define
class Bot:
    world: World
    emu: TelegramEmulator
    runner: BotRunner
    deps: BotDeps

    async def restart(self) -> None:
        """A new bot process on the same Telegram and the same stores (the world's data,
        the conversation store): nothing in the old Application's memory survives."""
        await self.runner.stop()
        self.runner = BotRunner(
            build_bot_application(self.deps, self.emu.token, self.emu.base_url),
            poll_timeout=timedelta(seconds=5),
        )
        await self.runner.start_polling()

    # ------------------------------------------------------- people acting
    def last_id(self, chat_id: int) -> int:
        messages = self.emu.messages(chat_id)
        return messages[-1].message_id if messages else 0

    async def say(self, user: int, text: str) -> Message:
        """``user`` writes ``text`` to the bot; returns the bot's first answer."""
        after = self.last_id(user)
        self.emu.user_sends(user, text)
        return await self.answer_to(user, after)

    async def answer_to(self, user: int, after: int) -> Message:
        return await self.until(
            lambda: next(
                (m for m in self.from_bot(user) if m.message_id > after),
                None,
            ),
            f"the bot's answer to {user}",
        )

    def message(self, chat_id: int, message_id: int) -> Message:
        """A message as the chat shows it now (edits applied)."""
        return next(m for m in self.emu.messages(chat_id) if m.message_id == message_id)

    def from_bot(self, chat_id: int) -> list[Message]:
        return [m for m in self.emu.messages(chat_id) if m.from_id == self.emu.bot.id]

    async def press(self, user: int, message: Message, label: str) -> str:
        """``user`` presses the button labelled ``label`` under ``message``; returns the
        callback query's id once the bot answered it."""
        return await self.press_data(user, message, button(message, label)["callback_data"])

    async def press_data(self, user: int, message: Message, data: str) -> str:
        """``user`` presses a button carrying ``data`` under ``message``, as a client
        still showing it would: the emulator edits messages in place, so once the bot
        has edited the buttons away (a conversation's timeout), a test holding the
        message can no longer look them up by label."""
        query_id = self.emu.user_presses(user, message.chat_id, message.message_id, data)
        await self.until(lambda: self.emu.callback_queries[query_id].answered, "an answer")
        return query_id

    def alert(self, query_id: str) -> str | None:
        return self.emu.callback_queries[query_id].answer_text

    async def until(self, check: Callable[[], T | None], what: str, within: float = 5.0) -> T:
        """Wait until ``check`` gives something truthy, and return it."""
        deadline = time.monotonic() + within
        while time.monotonic() < deadline:
            result = check()
            if result:
                return result
            await asyncio.sleep(0.01)
        raise AssertionError(f"timed out waiting for {what}")

    async def until_true(
        self, check: Callable[[], Awaitable[bool]], what: str, within: float = 5.0
    ) -> None:
        """Wait until the async ``check`` holds (a state the core's store keeps)."""
        deadline = time.monotonic() + within
        while time.monotonic() < deadline:
            if await check():
                return
            await asyncio.sleep(0.01)
        raise AssertionError(f"timed out waiting for {what}")

    async def bot_sends_buttons(self, user: int, *data: str) -> Message:
        """A message from the bot with one button per callback ``data`` (as an older
        version of the bot, or a tampering client, might have left behind)."""
        after = self.last_id(user)
        markup = InlineKeyboardMarkup([[InlineKeyboardButton(d, callback_data=d)] for d in data])
        await self.runner.application.bot.send_message(user, "old buttons", reply_markup=markup)
        return await self.answer_to(user, after)

    async def idle(self) -> None:
        """Wait until every update sent so far is fully handled, writes after the answer
        included (a step stores the keypad's message once it is shown). Tests call this
        before moving the clock on, which no real step could race against."""

        def quiet() -> bool:
            app = self.runner.application
            # Webhook mode: an update leaves ``pending`` once its handling returned.
            # Polling: it leaves once fetched, then waits in the queue or is processed.
            return (
                not self.emu.hub.pending
                and app.update_queue.empty()
                and app.update_processor.current_concurrent_updates == 0
            )

        for _ in range(2):  # twice, across the gap between the queue and the processor
            await self.until(quiet, "the bot to finish with every update")
            await asyncio.sleep(0.02)

    async def settle(self) -> None:
        """Give the bot a moment to act on anything still in flight (for asserting that
        something did NOT happen)."""
        await asyncio.sleep(0.2)


def button(message: Message, label: str) -> dict[str, Any]:
    for row in (message.reply_markup or {}).get("inline_keyboard", []):
        for b in row:
            if b.get("text") == label:
                found: dict[str, Any] = b
                return found
    raise AssertionError(f"no button {label!r} under: {message.text!r}")


def labels(message: Message) -> list[str]:
    rows = (message.reply_markup or {}).get("inline_keyboard", [])
    return [str(b["text"]) for row in rows for b in row]


def emulated_telegram(world: World) -> TelegramEmulator:
    emu = TelegramEmulator(
        flood=FloodLimits.off(),
        webhook_retry_delay=0.05,
        wall_clock=lambda: world.clock.now().timestamp(),
    )
    assert emu.bot.username == BOT_USERNAME
    emu.add_user(OWNER, "Olivia", username="olivia")
    emu.add_user(SUBSCRIBER, "Sam")
    emu.add_user(STRANGER, "Eve")
    emu.add_user(DONOR, "Dana")
    emu.add_chat(OPEN, "channel", "Alpha Signals", username="alpha_signals", creator_id=OWNER)
    emu.add_chat(CLOSED, "channel", "Alpha Signals VIP", creator_id=OWNER)
    return emu


SWEEP = timedelta(seconds=0.05)
"""Tests look for timed-out conversations often, so a notice shows within a blink."""


def bot_deps(
    world: World,
    settings: BotSettings | None = None,
    capacity: int = 1000,
    refill: int = 1,
    conversations: ConversationStore | None = None,
) -> BotDeps:
    """What the bot gets; conversations are kept in memory on the world's clock unless
    a store is given (a shared database, for bots in two "processes")."""
    return BotDeps(
        resolve_offer=world.resolve,
        checkout=world.checkout,
        donate=world.donate,
        join_requests=world.join,
        register=world.register,
        set_tiers=world.set_tiers,
        set_trial=world.set_trial,
        stars_link=SwitchStarsLink(world.uow, world.clock, world.chat),
        stars_link_members=StarsLinkMembers(world.uow, world.clock, RandomIdGenerator()),
        take_trial=world.take_trial,
        set_donations=world.set_donations,
        set_wallet=world.set_wallet,
        sales=world.sales,
        bundles=world.bundles,
        status=world.status,
        resend=world.resend,
        publish=world.publish,
        resume=world.resume_sales,
        uow=world.uow,
        keyring=KEYRING,
        clock=world.clock,
        limiter=InMemoryRateLimiter(world.clock, capacity, refill),
        conversations=(
            InMemoryConversationStore(world.clock) if conversations is None else conversations
        ),
        bot_username=BOT_USERNAME,
        settings=settings or BotSettings(timeout_sweep=SWEEP),
        languages=InMemoryLanguageBook(),
        names=InMemoryPersonNames(),
        pre_checkout=world.pre_checkout,
        stars_payment=world.stars_payment,
        stars_refund=world.stars_refund,
        cancel_renewal=world.cancel_renewal,
        wording=world.own_wording,
        coupons=world.coupons,
        redeem=world.redeem,
        coupon_prices=world.coupon_prices,
    )


@asynccontextmanager
async def polling_bot(
    world: World | None = None,
    deps: Callable[[World], BotDeps] = bot_deps,
) -> AsyncIterator[Bot]:
    """The bot long-polling the emulator."""
    world = world or build()
    async with emulated_telegram(world) as emu:
        bot_deps_ = deps(world)
        runner = BotRunner(
            build_bot_application(bot_deps_, emu.token, emu.base_url),
            poll_timeout=timedelta(seconds=5),
        )
        await runner.start_polling()
        bot = Bot(world, emu, runner, bot_deps_)
        try:
            yield bot
        finally:
            await bot.runner.stop()  # the one running now, after any restart()
