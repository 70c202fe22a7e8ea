"""The two ways updates reach the bot: Telegram pushing them to our webhook (the
HTTP app hands each to BotRunner.handle_webhook_update), or long polling."""

from __future__ import annotations

import hmac
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import attrs
import pytest
from aiohttp import web

from adapters.catalog.language import LANGUAGES
from adapters.inbound.telegram import (
    ALLOWED_UPDATES,
    BotRunner,
    build_bot_application,
)
from adapters.outbound.memory.nonce_store import InMemoryNonceStore
from adapters.outbound.telegram import PacedRateLimiter, TelegramBotClient
from core.domain.channel import Channel
from core.domain.offer_token import OfferToken
from sandbox.telegram import SECRET_HEADER, new_token
from tests.contract.bot.harness import (
    SUBSCRIBER,
    Bot,
    bot_deps,
    emulated_telegram,
    labels,
    polling_bot,
)
from tests.contract.telegram.backends import FAST
from tests.unit.services.world import KEYRING, World, build

SECRET = "webhook-secret_0123"


@attrs.define
class WebhookBot:
    bot: Bot
    url: str


@pytest.fixture
async def webhook_bot() -> AsyncIterator[WebhookBot]:
    """The bot in webhook mode behind a minimal stand-in for the HTTP app's route:
    it checks the secret header, then awaits the bot's handler."""
    world = build()
    await world.channel()
    async with emulated_telegram(world) as emu:
        deps = bot_deps(world)
        runner = BotRunner(
            build_bot_application(deps, emu.token, emu.base_url, webhook=True),
            seen_updates=InMemoryNonceStore(world.clock),
        )

        async def route(request: web.Request) -> web.Response:
            given = request.headers.get(SECRET_HEADER, "")
            if not hmac.compare_digest(given.encode(), SECRET.encode()):
                return web.Response(status=403)
            await runner.handle_webhook_update(await request.json())
            return web.Response()

        app = web.Application()
        app.router.add_post("/webhooks/telegram", route)
        server = web.AppRunner(app)
        await server.setup()
        site = web.TCPSite(server, "127.0.0.1", 0)
        await site.start()
        port = server.addresses[0][1]
        url = f"http://127.0.0.1:{port}/webhooks/telegram"
        await runner.start_webhook(url, SECRET)
        try:
            yield WebhookBot(Bot(world, emu, runner, deps), url)
        finally:
            await runner.stop()
            await server.cleanup()


async def channel_of(world: World) -> Channel:
    async with world.uow() as tx:
        (only,) = await tx.channels.all()
    return only


async def test_the_webhook_is_set_with_the_secret_and_exactly_the_updates_we_handle(
    webhook_bot: WebhookBot,
) -> None:
    hook = webhook_bot.bot.emu.hub.webhook

    assert hook is not None
    assert (hook.url, hook.secret_token) == (webhook_bot.url, SECRET)
    assert webhook_bot.bot.emu.hub.allowed == frozenset(
        {
            "message",
            "callback_query",
            "chat_join_request",
            "my_chat_member",
            "chat_member",
            "pre_checkout_query",
        }
    )
    assert set(ALLOWED_UPDATES) == webhook_bot.bot.emu.hub.allowed


async def test_updates_pushed_to_the_webhook_are_answered(webhook_bot: WebhookBot) -> None:
    bot = webhook_bot.bot
    channel = await channel_of(bot.world)
    token = OfferToken(channel.id, 1).encode(KEYRING)

    offer = await bot.say(SUBSCRIBER, f"/start {token}")
    await bot.press(SUBSCRIBER, offer, "Confirm")

    assert labels(bot.message(SUBSCRIBER, offer.message_id)) == ["Pay now"]
    assert all(a.status == 200 for a in bot.emu.hub.attempts)


async def test_an_update_delivered_twice_is_handled_once(webhook_bot: WebhookBot) -> None:
    bot = webhook_bot.bot
    update: dict[str, Any] = {
        "update_id": 9001,
        "message": {
            "message_id": 1,
            "from": {"id": SUBSCRIBER, "is_bot": False, "first_name": "Sam"},
            "chat": {"id": SUBSCRIBER, "type": "private", "first_name": "Sam"},
            "date": int(bot.world.clock.now().timestamp()),
            "text": "/help",
            "entities": [{"offset": 0, "length": 5, "type": "bot_command"}],
        },
    }

    await bot.runner.handle_webhook_update(update)
    await bot.runner.handle_webhook_update(update)

    assert len(bot.emu.calls_to("sendMessage")) == 1


async def test_a_malformed_update_is_dropped_quietly(webhook_bot: WebhookBot) -> None:
    bot = webhook_bot.bot

    await bot.runner.handle_webhook_update({"message": {"text": "no update id"}})
    await bot.runner.handle_webhook_update({"update_id": "x", "message": "not an object"})

    assert bot.emu.calls_to("sendMessage") == []


async def test_polling_asks_for_exactly_the_updates_we_handle() -> None:
    async with polling_bot() as bot:
        await bot.say(SUBSCRIBER, "/help")

        assert bot.emu.hub.allowed == frozenset(ALLOWED_UPDATES)
        assert bot.emu.hub.webhook is None


async def test_a_webhook_mode_bot_cannot_be_started_polling() -> None:
    runner = BotRunner(build_bot_application(bot_deps(build()), new_token(), webhook=True))

    with pytest.raises(RuntimeError, match="webhook mode"):
        await runner.start_polling()


async def test_the_bot_can_share_the_outbound_adapters_paced_bot() -> None:
    world = build()
    async with emulated_telegram(world) as emu:
        client = TelegramBotClient(emu.token, api_url=emu.base_url, limiter=PacedRateLimiter(FAST))
        await client.start()
        before = client.limiter.stats.calls
        deps = bot_deps(world)
        runner = BotRunner(
            build_bot_application(deps, emu.token, webhook=False, bot=client.bot),
            poll_timeout=timedelta(seconds=5),
        )
        await runner.start_polling()
        bot = Bot(world, emu, runner, deps)
        try:
            answer = await bot.say(SUBSCRIBER, "/help")
        finally:
            await runner.stop()
            await client.stop()

    assert answer.text.startswith("Subscribers")
    # deleteWebhook, the command menus published at start and the reply went through
    # the shared pacing (PTB never paces getUpdates)
    menus = len(emu.calls_to("setMyCommands"))
    assert menus >= len(LANGUAGES)
    assert client.limiter.stats.calls - before == 2 + menus


def test_a_shared_bot_must_carry_the_same_token() -> None:
    client = TelegramBotClient(new_token())

    with pytest.raises(ValueError, match="another token"):
        build_bot_application(bot_deps(build()), new_token(), bot=client.bot)
