"""From an offer's deep link to the invoice link, through the real bot."""

from __future__ import annotations

from adapters.catalog.buttons import RENEW_PREFIX
from core.domain.channel import Channel
from core.domain.money import Money
from core.domain.offer_token import OfferToken
from core.domain.tier import Tier
from core.ports.errors import Unavailable
from tests.contract.bot.harness import SUBSCRIBER, Bot, button, labels
from tests.unit.services.world import KEYRING, OWNER, usd


def token(channel: Channel, tier: int = 1) -> str:
    return OfferToken(channel.id, tier).encode(KEYRING)


async def test_start_with_an_offer_token_shows_the_offer_and_a_confirm_button(
    bot: Bot, channel: Channel
) -> None:
    offer = await bot.say(SUBSCRIBER, f"/start {token(channel)}")

    assert offer.text.splitlines()[:2] == ["Alpha Signals", "Tier 1: 30 days for 10 USD."]
    assert labels(offer) == ["Confirm"]
    assert button(offer, "Confirm")["callback_data"] == f"c:{token(channel)}"


async def test_confirming_turns_the_offer_into_the_invoice_link(bot: Bot, channel: Channel) -> None:
    offer = await bot.say(SUBSCRIBER, f"/start {token(channel, 2)}")

    await bot.press(SUBSCRIBER, offer, "Confirm")

    invoice = await bot.until(
        lambda: next((m for m in bot.from_bot(SUBSCRIBER) if "Pay now" in labels(m)), None),
        "the invoice link",
    )
    (request,) = bot.world.gateway.requests
    assert request.price == Money.of(25, "USD")
    assert invoice.message_id == offer.message_id
    assert invoice.text.startswith("Alpha Signals: 90 days for 25 USD.")
    assert button(invoice, "Pay now")["url"] == "https://pay.example.test/invoice/inv1"


async def test_a_tampered_token_gets_a_clear_message_and_no_button(
    bot: Bot, channel: Channel
) -> None:
    forged = token(channel, 1).replace("_1_", "_2_")

    answer = await bot.say(SUBSCRIBER, f"/start {forged}")

    assert answer.text == "This link is not a valid offer."
    assert labels(answer) == []


async def test_an_unknown_token_gets_a_clear_message(bot: Bot) -> None:
    answer = await bot.say(SUBSCRIBER, "/start not-a-token")

    assert answer.text == "This link is not a valid offer."


async def test_a_token_for_a_tier_that_was_removed_says_the_offer_changed(
    bot: Bot, channel: Channel
) -> None:
    stale = token(channel, 2)
    await bot.world.set_tiers.execute(OWNER, channel.id, (Tier(1, usd(10), 30),))

    answer = await bot.say(SUBSCRIBER, f"/start {stale}")

    assert answer.text == "This offer has changed; please pick a tier from the channel again."


async def test_confirming_after_the_tier_changed_creates_no_invoice(
    bot: Bot, channel: Channel
) -> None:
    offer = await bot.say(SUBSCRIBER, f"/start {token(channel, 2)}")
    await bot.world.set_tiers.execute(OWNER, channel.id, (Tier(1, usd(10), 30),))

    query = await bot.press(SUBSCRIBER, offer, "Confirm")

    assert bot.alert(query) == "This offer has changed; please pick a tier from the channel again."
    assert bot.world.gateway.requests == []


async def test_a_paused_channel_does_not_sell(bot: Bot, channel: Channel) -> None:
    await bot.world.sales.pause(channel.closed_chat_id, "the bot lost its rights")

    answer = await bot.say(SUBSCRIBER, f"/start {token(channel)}")

    assert answer.text == "Alpha Signals is not taking new subscriptions right now."


async def test_a_provider_outage_asks_to_try_again_in_a_minute(bot: Bot, channel: Channel) -> None:
    offer = await bot.say(SUBSCRIBER, f"/start {token(channel)}")
    bot.world.gateway.fail_next(Unavailable("provider down"))

    query = await bot.press(SUBSCRIBER, offer, "Confirm")

    assert bot.alert(query) == (
        "I cannot reach a service I need right now. Please try again in a minute."
    )
    assert bot.emu.messages(SUBSCRIBER)[-1].text == offer.text


async def test_a_renew_button_shows_the_offer_like_the_deep_link(
    bot: Bot, channel: Channel
) -> None:
    invoice = await bot.world.checkout.execute(SUBSCRIBER, channel.id, 1)
    await bot.world.pay(invoice)
    status = await bot.say(SUBSCRIBER, "/status")
    after = bot.last_id(SUBSCRIBER)

    await bot.press(SUBSCRIBER, status, "Renew Alpha Signals")

    offer = await bot.answer_to(SUBSCRIBER, after)
    assert button(status, "Renew Alpha Signals")["callback_data"] == (
        RENEW_PREFIX + token(channel, 1)
    )
    assert offer.text.splitlines()[1] == "Tier 1: 30 days for 10 USD."
    assert labels(offer) == ["Confirm"]
