"""Coupons through the real bot (issue 21): owners make, list and switch off codes;
subscribers redeem them by deep link or /redeem and pay the lowered price; bad input
gets a clear answer."""

from __future__ import annotations

from decimal import Decimal

from core.domain.channel import Channel
from core.domain.offer_token import OfferToken
from core.domain.outbox import IssueInvite
from tests.contract.bot.harness import BOT_USERNAME, STRANGER, SUBSCRIBER, Bot, labels
from tests.unit.services.world import KEYRING, OWNER


async def test_an_owner_makes_a_code_and_gets_its_link(bot: Bot, channel: Channel) -> None:
    made = await bot.say(OWNER, "/coupon new spring 20% uses 10 until 2027-06-30")

    assert made.text.splitlines()[0] == (
        "Code SPRING: 20% off on all your channels (used 0 of 10, until 2027-07-01 00:00 UTC)."
    )
    assert made.text.endswith(f"https://t.me/{BOT_USERNAME}?start=c-SPRING")

    listed = await bot.say(OWNER, "/coupons")
    assert listed.text == (
        "• SPRING: 20% off on all your channels — used 0 of 10, "
        "until 2027-07-01 00:00 UTC (10 uses left)"
    )


async def test_bad_coupon_commands_get_clear_answers(bot: Bot, channel: Channel) -> None:
    usage = await bot.say(OWNER, "/coupon new")
    assert usage.text.startswith("Make a code: /coupon new CODE 20% (or 5USD off")

    assert (await bot.say(OWNER, "/coupon new BIG 100%")).text.startswith(
        "A discount is 1 to 99 percent"
    )
    assert (await bot.say(OWNER, "/coupon new FREE 7d")).text == (
        "Free days are for one channel: add channel 1 (its number from /channels)."
    )
    assert (await bot.say(OWNER, "/coupon new LATER 10% until 2027-02-30")).text == (
        "Write the date as YYYY-MM-DD, such as 2027-06-30."
    )
    assert (await bot.say(OWNER, "/coupon new EURO 5EUR channel 1")).text == (
        "An amount off must be in your tiers' currency."
    )
    assert (await bot.say(OWNER, "/coupon new X! 10%")).text == (
        "A code is 4 to 32 letters, digits or dashes."
    )
    await bot.say(OWNER, "/coupon new TWICE 10%")
    assert (await bot.say(OWNER, "/coupon new twice 15%")).text == (
        "That code is taken. Please choose another one."
    )
    assert (await bot.say(OWNER, "/coupon new OTHER 10% channel 7")).text == (
        "You have no channel 7; /channels lists yours."
    )


async def test_a_deep_link_shows_the_lowered_prices_and_checkout_charges_them(
    bot: Bot, channel: Channel
) -> None:
    await bot.say(OWNER, "/coupon new SAVE-3 3USD channel 1")

    offer = await bot.say(SUBSCRIBER, "/start c-save-3")

    assert offer.text.splitlines()[:3] == [
        "Code SAVE-3 applied: 3 USD off.",
        "• Alpha Signals, 30 days: 7 USD instead of 10 USD",
        "• Alpha Signals, 90 days: 22 USD instead of 25 USD",
    ]
    assert labels(offer) == [
        "Alpha Signals: 30 days for 7 USD",
        "Alpha Signals: 90 days for 22 USD",
    ]

    await bot.press(SUBSCRIBER, offer, "Alpha Signals: 90 days for 22 USD")

    await bot.until(
        lambda: next((m for m in bot.from_bot(SUBSCRIBER) if "Pay now" in labels(m)), None),
        "the invoice link",
    )
    (request,) = bot.world.gateway.requests
    assert request.price.amount == Decimal(22) and request.price.currency == "USD"


async def test_redeeming_by_command_and_the_refusals(bot: Bot, channel: Channel) -> None:
    await bot.say(OWNER, "/coupon new ONLY-ONE 50% uses 1")

    assert (await bot.say(SUBSCRIBER, "/redeem only-one")).text.startswith(
        "Code ONLY-ONE applied: 50% off."
    )
    assert (await bot.say(SUBSCRIBER, "/redeem ONLY-ONE")).text.startswith(
        "Your code ONLY-ONE still applies:"
    )
    assert (await bot.say(STRANGER, "/redeem ONLY-ONE")).text == "That code has been used up."
    assert (await bot.say(STRANGER, "/redeem NO-SUCH")).text == (
        "I do not know that code, or it was switched off."
    )
    assert (await bot.say(STRANGER, "/redeem")).text == (
        "Send /redeem and your code, such as /redeem SPRING."
    )


async def test_free_days_are_granted_and_a_switched_off_code_is_not(
    bot: Bot, channel: Channel
) -> None:
    await bot.say(OWNER, "/coupon new WEEK 7d channel 1")

    granted = await bot.say(SUBSCRIBER, "/start c-WEEK")

    assert granted.text.startswith("Code WEEK applied: you have access to Alpha Signals until ")
    assert [e for e in await bot.world.effects() if isinstance(e, IssueInvite)]
    assert (await bot.say(SUBSCRIBER, "/redeem WEEK")).text == "You have already used that code."

    off = await bot.say(OWNER, "/coupon off week")
    assert off.text == "Code WEEK is switched off: nobody can redeem it any more."
    assert (await bot.say(STRANGER, "/redeem WEEK")).text == (
        "I do not know that code, or it was switched off."
    )
    assert "switched off" in (await bot.say(OWNER, "/coupons")).text


async def test_the_channels_offer_shows_the_price_of_a_held_code(
    bot: Bot, channel: Channel
) -> None:
    await bot.say(OWNER, "/coupon new TEN-OFF 10% channel 1")
    await bot.say(SUBSCRIBER, "/redeem TEN-OFF")
    token = OfferToken(channel.id, 2).encode(KEYRING)

    offer = await bot.say(SUBSCRIBER, f"/start {token}")
    plain = await bot.say(STRANGER, f"/start {token}")

    assert offer.text.endswith("With your code TEN-OFF you pay 22.50 USD instead of 25 USD.")
    assert "With your code" not in plain.text
    await bot.press(SUBSCRIBER, offer, "Confirm")
    await bot.until(
        lambda: next((m for m in bot.from_bot(SUBSCRIBER) if "Pay now" in labels(m)), None),
        "the invoice link",
    )
    (request,) = bot.world.gateway.requests
    assert request.price.amount == Decimal("22.50")


async def test_a_code_for_one_tier(bot: Bot, channel: Channel) -> None:
    made = await bot.say(OWNER, "/coupon new LONG 40% channel 1 tier 2")
    assert (
        made.text.splitlines()[0] == "Code LONG: 40% off on tier 2 of Alpha Signals (used 0 times)."
    )

    offer = await bot.say(SUBSCRIBER, "/redeem LONG")

    assert labels(offer) == ["Alpha Signals: 90 days for 15 USD"]
