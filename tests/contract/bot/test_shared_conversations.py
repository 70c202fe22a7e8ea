"""Conversations live in the shared store, not in a bot process: two processes taking
turns at one person's updates (webhook behind a load balancer) carry one
conversation between them, and a restarted bot carries on where the last one was.

The store is SQL here (SQLite, and Postgres where the server is there), as a
deployment's processes would share it; each "process" is an Application of its own,
with its own rate limiter and no memory in common with the other.
"""

from __future__ import annotations

import hmac
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from datetime import timedelta

import attrs
import pytest
from aiohttp import web
from sqlalchemy.ext.asyncio import AsyncEngine

from adapters.inbound.telegram import BotRunner, build_bot_application
from adapters.outbound.sqla.conversations import SqlConversationStore
from core.domain.channel import Channel
from core.domain.money import Money
from core.domain.offer_token import DONATION, OfferToken
from sandbox.telegram import SECRET_HEADER
from tests.contract.backends_sql import postgres_engine, sqlite_engine
from tests.contract.bot.harness import (
    DONOR,
    Bot,
    bot_deps,
    emulated_telegram,
    labels,
    polling_bot,
)
from tests.unit.services.world import CLOSED, KEYRING, OPEN, OWNER, World, build

SECRET = "webhook-secret_0123"
NOT_UNDERSTOOD = "I did not understand that. /help lists what I can do."
KEYPAD_EXPIRED = "This donation keypad has expired. Tap Donate in the channel to start again."

ENGINES: dict[str, Callable[[], AbstractAsyncContextManager[AsyncEngine]]] = {
    "sqlite": sqlite_engine,
    "postgres": postgres_engine,
}


@pytest.fixture(params=list(ENGINES), ids=list(ENGINES))
async def engine(request: pytest.FixtureRequest) -> AsyncIterator[AsyncEngine]:
    async with ENGINES[request.param]() as engine:
        yield engine


@pytest.fixture
async def sqlite() -> AsyncIterator[AsyncEngine]:
    """For the restart tests: what they show does not depend on the database (the two
    process tests run on both)."""
    async with sqlite_engine() as engine:
        yield engine


@attrs.define
class Fleet:
    bot: Bot
    """People act through ``bot`` (its runner is process 0's)."""
    handled_by: list[int]
    """Which process each update went to, in order."""


@asynccontextmanager
async def two_processes(world: World, engine: AsyncEngine) -> AsyncIterator[Fleet]:
    """Two webhook-mode bots on one conversation store, behind a route that hands
    updates to them in turn, as a round-robin load balancer would."""
    async with emulated_telegram(world) as emu:
        deps = [
            bot_deps(world, conversations=SqlConversationStore(engine, world.clock))
            for _ in range(2)
        ]
        runners = [
            BotRunner(build_bot_application(d, emu.token, emu.base_url, webhook=True)) for d in deps
        ]
        handled_by: list[int] = []

        async def balancer(request: web.Request) -> web.Response:
            if not hmac.compare_digest(request.headers.get(SECRET_HEADER, ""), SECRET):
                return web.Response(status=403)
            turn = len(handled_by) % 2
            handled_by.append(turn)
            await runners[turn].handle_webhook_update(await request.json())
            return web.Response()

        app = web.Application()
        app.router.add_post("/webhooks/telegram", balancer)
        server = web.AppRunner(app)
        await server.setup()
        site = web.TCPSite(server, "127.0.0.1", 0)
        await site.start()
        url = f"http://127.0.0.1:{server.addresses[0][1]}/webhooks/telegram"
        for runner in runners:
            await runner.start_webhook(url, SECRET)
        try:
            yield Fleet(Bot(world, emu, runners[0], deps[0]), handled_by)
        finally:
            for runner in runners:
                await runner.stop()
            await server.cleanup()


def donate_link(channel: Channel) -> str:
    return "/start " + OfferToken(channel.id, DONATION).encode(KEYRING)


def prices(bot: Bot) -> list[Money]:
    return [r.price for r in bot.world.gateway.requests]


async def only_channel(world: World) -> Channel:
    async with world.uow() as tx:
        (channel,) = await tx.channels.by_owner(OWNER)
    return channel


async def test_two_processes_taking_turns_carry_one_registration(engine: AsyncEngine) -> None:
    world = build()
    world.admin_chats()
    async with two_processes(world, engine) as fleet:
        bot = fleet.bot
        answers = [
            (await bot.say(OWNER, text)).text
            for text in ("/register", "@alpha_signals", str(OPEN), str(CLOSED), "Alpha Signals")
        ]

    channel = await only_channel(world)
    assert fleet.handled_by == [0, 1, 0, 1, 0]
    assert [a.splitlines()[0] for a in answers] == [
        "Let's connect your channels (send /cancel to stop).",
        "Now the closed (private) channel subscribers are let into: forward me a message "
        "from it, or send its id.",
        "The closed channel must be a different chat from the open one.",
        "Last, the title subscribers see for this channel, such as Alpha Signals.",
        "Alpha Signals is registered as channel 1.",
    ]
    assert (channel.open_chat_id, channel.closed_chat_id, channel.title) == (
        OPEN,
        CLOSED,
        "Alpha Signals",
    )


async def test_two_processes_taking_turns_carry_one_donation(engine: AsyncEngine) -> None:
    world = build()
    channel = await world.channel()
    async with two_processes(world, engine) as fleet:
        bot = fleet.bot
        keypad = await bot.say(DONOR, donate_link(channel))
        after = bot.last_id(DONOR)
        await bot.press(DONOR, keypad, "Other amount")
        prompt = await bot.answer_to(DONOR, after)
        refused = await bot.say(DONOR, "abc")
        typed = await bot.say(DONOR, "12,50")
        second_keypad = await bot.say(DONOR, donate_link(channel))
        await bot.press(DONOR, second_keypad, "5 USD")
        after_preset = await bot.say(DONOR, "5")

    assert fleet.handled_by == [0, 1, 0, 1, 0, 1, 0]
    assert prompt.text.startswith("Type the amount for Alpha Signals in USD")
    assert refused.text == "Send just the amount, such as 12.50 or 12,50."
    assert typed.text.startswith("Alpha Signals: a donation for 12.50 USD.")
    assert bot.message(DONOR, second_keypad.message_id).text.startswith(
        "Alpha Signals: a donation for 5 USD."
    )
    # The preset ended the conversation on process 1: process 0 reads no amount now.
    assert after_preset.text == NOT_UNDERSTOOD
    assert prices(bot) == [Money.of("12.50", "USD"), Money.of(5, "USD")]


async def test_cancel_and_timeout_retire_a_keypad_another_process_showed(
    engine: AsyncEngine,
) -> None:
    world = build()
    channel = await world.channel()
    async with two_processes(world, engine) as fleet:
        bot = fleet.bot
        cancelled_keypad = await bot.say(DONOR, donate_link(channel))
        cancelled = await bot.say(DONOR, "/cancel")
        idle_keypad = await bot.say(DONOR, donate_link(channel))
        edits_before = len(bot.emu.calls_to("editMessageText"))
        await bot.idle()

        world.clock.advance(timedelta(minutes=5))
        await bot.until(
            lambda: bot.message(DONOR, idle_keypad.message_id).edit_date, "the keypad to expire"
        )
        await bot.settle()  # both processes sweep: give the other time to (not) edit too
        edits = bot.emu.calls_to("editMessageText")[edits_before:]

    assert fleet.handled_by == [0, 1, 0]
    assert cancelled.text == "Donation cancelled."
    assert bot.message(DONOR, cancelled_keypad.message_id).text == "Donation cancelled."
    assert bot.message(DONOR, idle_keypad.message_id).text == KEYPAD_EXPIRED
    assert labels(bot.message(DONOR, idle_keypad.message_id)) == []
    assert [str(e.params.get("message_id")) for e in edits] == [str(idle_keypad.message_id)]
    assert prices(bot) == []


async def test_a_registration_carries_on_across_a_bot_restart(sqlite: AsyncEngine) -> None:
    world = build()
    world.admin_chats()
    store = SqlConversationStore(sqlite, world.clock)
    async with polling_bot(world, lambda w: bot_deps(w, conversations=store)) as bot:
        await bot.say(OWNER, "/register")
        await bot.say(OWNER, "@alpha_signals")
        await bot.restart()
        asked = await bot.say(OWNER, str(CLOSED))
        done = await bot.say(OWNER, "Alpha Signals")

    channel = await only_channel(world)
    assert asked.text.startswith("Last, the title subscribers see")
    assert done.text.splitlines()[0] == "Alpha Signals is registered as channel 1."
    assert (channel.open_chat_id, channel.closed_chat_id) == (OPEN, CLOSED)


async def test_a_restarted_bot_takes_the_amount_and_retires_the_keypad_it_never_saw(
    sqlite: AsyncEngine,
) -> None:
    world = build()
    channel = await world.channel()
    store = SqlConversationStore(sqlite, world.clock)
    async with polling_bot(world, lambda w: bot_deps(w, conversations=store)) as bot:
        await bot.say(DONOR, donate_link(channel))
        await bot.restart()
        typed = await bot.say(DONOR, "42")
        keypad = await bot.say(DONOR, donate_link(channel))
        await bot.restart()
        cancelled = await bot.say(DONOR, "/cancel")

    assert typed.text.startswith("Alpha Signals: a donation for 42 USD.")
    assert cancelled.text == "Donation cancelled."
    assert bot.message(DONOR, keypad.message_id).text == "Donation cancelled."
    assert prices(bot) == [Money.of(42, "USD")]


async def test_a_restarted_bot_tells_the_owner_their_registration_timed_out(
    sqlite: AsyncEngine,
) -> None:
    world = build()
    world.admin_chats()
    store = SqlConversationStore(sqlite, world.clock)
    async with polling_bot(world, lambda w: bot_deps(w, conversations=store)) as bot:
        asked = await bot.say(OWNER, "/register")
        await bot.idle()
        await bot.restart()

        world.clock.advance(timedelta(minutes=5))
        timed_out = await bot.answer_to(OWNER, asked.message_id)

    assert timed_out.text == "Registration timed out. Send /register to start again."
