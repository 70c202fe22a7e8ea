"""Per-user rate limits in front of every handler, and the one error handler behind
them."""

from __future__ import annotations

import logging
from datetime import timedelta

import attrs
import pytest

from adapters.inbound.telegram import BotDeps, BotSettings
from core.domain.channel import Channel
from core.domain.ids import UserId
from core.domain.money import Money
from core.domain.offer_token import DONATION, OfferToken
from core.ports.payments import ProviderRejected
from core.services.subscriber_status import SubscriberStatus, SubscriptionView
from tests.contract.bot.harness import DONOR, SUBSCRIBER, Bot, bot_deps, polling_bot
from tests.unit.services.world import KEYRING, World, build

NOT_UNDERSTOOD = "I did not understand that. /help lists what I can do."


async def test_a_flood_of_messages_gets_one_slow_down_notice_then_silence() -> None:
    world = build()
    async with polling_bot(world, lambda w: bot_deps(w, capacity=3)) as bot:
        for n in range(6):
            bot.emu.user_sends(SUBSCRIBER, f"message {n}")
        await bot.until(lambda: len(bot.from_bot(SUBSCRIBER)) >= 4, "four answers")
        await bot.settle()
        flood = sorted(m.text for m in bot.from_bot(SUBSCRIBER))
        world.clock.advance(timedelta(seconds=10))  # the bucket fills up again
        later = await bot.say(SUBSCRIBER, "hello again")

    assert flood == [
        NOT_UNDERSTOOD,
        NOT_UNDERSTOOD,
        NOT_UNDERSTOOD,
        "You are going a little fast. Please wait 1 second and try again.",
    ]
    assert later.text == NOT_UNDERSTOOD


async def test_invoice_requests_beyond_the_budget_never_reach_the_provider() -> None:
    world = build()
    channel = await world.channel()
    tight = BotSettings(checkout_cost=5)
    donate = "/start " + OfferToken(channel.id, DONATION).encode(KEYRING)
    async with polling_bot(world, lambda w: bot_deps(w, tight, capacity=10)) as bot:
        answers = []
        for amount in ("5", "6", "7"):
            await bot.say(DONOR, donate)
            answers.append((await bot.say(DONOR, amount)).text)

    assert answers[0].startswith("Alpha Signals: a donation for 5 USD.")
    assert answers[1].startswith("Alpha Signals: a donation for 6 USD.")
    assert answers[2] == (
        "You asked for several payment links in a short time. Please wait 5 seconds and try again."
    )
    assert [r.price for r in world.gateway.requests] == [Money.of(5, "USD"), Money.of(6, "USD")]


async def test_a_provider_refusal_is_explained_without_details(bot: Bot, channel: Channel) -> None:
    token = OfferToken(channel.id, 1).encode(KEYRING)
    offer = await bot.say(SUBSCRIBER, f"/start {token}")
    bot.world.gateway.fail_next(ProviderRejected("401 invalid api key"))

    query = await bot.press(SUBSCRIBER, offer, "Confirm")

    assert bot.alert(query) == (
        "The payment provider would not create an invoice just now. Please try again later."
    )


class BrokenStatus(SubscriberStatus):
    """A use case failing the way a bug would, with the bot's token in its message (as
    an HTTP library's error can carry a request URL)."""

    token = ""

    async def execute(self, user_id: UserId) -> list[SubscriptionView]:
        raise RuntimeError(f"POST https://api.telegram.org/bot{self.token}/sendMessage failed")


def broken_status(world: World) -> BotDeps:
    return attrs.evolve(bot_deps(world), status=BrokenStatus(world.uow, world.clock, KEYRING))


async def test_an_unexpected_failure_gets_an_apology_and_a_log_without_the_token(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO)
    async with polling_bot(build(), broken_status) as bot:
        BrokenStatus.token = bot.emu.token
        answer = await bot.say(SUBSCRIBER, "/status")
        token = bot.emu.token

    assert answer.text == (
        "Sorry, something went wrong on my side. Please try again in a little while."
    )
    assert "RuntimeError" in caplog.text
    assert "<bot-token>" in caplog.text
    assert token not in caplog.text
