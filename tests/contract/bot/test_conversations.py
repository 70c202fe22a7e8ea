"""A person is in at most one multi-step exchange with the bot: starting one ends
the other, so what they type goes where they expect."""

from __future__ import annotations

from core.domain.channel import Channel
from core.domain.money import Money
from core.domain.offer_token import DONATION, OfferToken
from tests.contract.bot.harness import Bot
from tests.unit.services.world import CLOSED, KEYRING, OWNER


def donate_link(channel: Channel) -> str:
    return "/start " + OfferToken(channel.id, DONATION).encode(KEYRING)


async def test_register_started_during_a_donation_takes_the_next_message(
    bot: Bot, channel: Channel
) -> None:
    await bot.say(OWNER, donate_link(channel))
    await bot.say(OWNER, "/register")

    answer = await bot.say(OWNER, "@alpha_signals")

    assert answer.text.startswith("Now the closed (private) channel")
    assert bot.world.gateway.requests == []


async def test_a_donation_started_during_registration_takes_the_typed_amount(
    bot: Bot, channel: Channel
) -> None:
    await bot.say(OWNER, "/register")
    await bot.say(OWNER, "@alpha_signals")
    await bot.say(OWNER, donate_link(channel))

    answer = await bot.say(OWNER, "5")

    assert answer.text.startswith("Alpha Signals: a donation for 5 USD.")
    assert [r.price for r in bot.world.gateway.requests] == [Money.of(5, "USD")]


async def test_cancel_ends_whichever_exchange_is_in_progress(bot: Bot, channel: Channel) -> None:
    await bot.say(OWNER, donate_link(channel))
    await bot.say(OWNER, "/register")

    cancelled = await bot.say(OWNER, "/cancel")
    after = await bot.say(OWNER, str(CLOSED))

    assert cancelled.text == "Registration cancelled."
    assert after.text == "I did not understand that. /help lists what I can do."
