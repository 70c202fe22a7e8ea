"""Stars subscriptions through the real bot: an owner sells a tier +auto, the
subscriber's first payment and Telegram's renewal (delivered twice) reach the bot as
updates, each month extends the subscription once, and /stoprenewal cancels."""

from __future__ import annotations

import copy
from collections.abc import AsyncIterator
from datetime import datetime, timedelta

import pytest

from core.domain.channel import Channel
from core.domain.ids import UserId
from core.domain.money import Money
from core.domain.offer_token import OfferToken
from core.domain.tier import Tier
from sandbox.telegram.stars import SUBSCRIPTION_PERIOD, PayOutcome
from tests.contract.bot.harness import SUBSCRIBER, Bot, labels, polling_bot
from tests.unit.services.world import KEYRING, OWNER, build, usd

RENEWING = (Tier(1, usd(10), 30, Money.of(500, "XTR"), stars_renews=True),)


@pytest.fixture
async def bot() -> AsyncIterator[Bot]:
    world = build(stars=True)
    await world.channel(RENEWING)
    async with polling_bot(world) as running:
        yield running


@pytest.fixture
async def channel(bot: Bot) -> Channel:
    async with bot.world.uow() as tx:
        (only,) = await tx.channels.all()
    return only


async def subscription_link(bot: Bot, channel: Channel) -> str:
    """Tier 1 in Stars: the offer says it renews; the invoice the bot asked for is put
    on the emulator as the Stars gateway would, as a 30-day subscription."""
    token = OfferToken(channel.id, 1).encode(KEYRING)
    offer = await bot.say(SUBSCRIBER, f"/start {token}")
    assert offer.text.endswith(
        "Paid in Stars, it is a subscription that Telegram renews every 30 days until you "
        "send /stoprenewal."
    )
    await bot.press(SUBSCRIBER, offer, "Pay 500 XTR")
    await bot.until(
        lambda: next((m for m in bot.from_bot(SUBSCRIBER) if "Pay now" in labels(m)), None),
        "the Stars invoice",
    )
    assert bot.world.stars is not None
    (request,) = bot.world.stars.requests
    assert request.renews is True
    return bot.emu.stars.create_invoice_link(
        title="Subscription",
        description=request.description,
        payload=request.order_id,
        currency="XTR",
        prices=[{"label": "Subscription", "amount": int(request.price.amount)}],
        provider_token=None,
        subscription_period=SUBSCRIPTION_PERIOD,
    )


async def ends(bot: Bot, channel: Channel) -> datetime | None:
    async with bot.world.uow() as tx:
        found = await tx.subscriptions.find(UserId(SUBSCRIBER), channel.id)
    return None if found is None else found.expires_at


async def test_a_renewal_delivered_twice_extends_once_and_stoprenewal_cancels(
    bot: Bot, channel: Channel
) -> None:
    url = await subscription_link(bot, channel)
    paid = await bot.emu.user_pays(SUBSCRIBER, url)
    assert paid.outcome is PayOutcome.PAID and paid.charge_id is not None
    await bot.until_true(lambda: _has(bot, channel), "the subscription")
    first_end = await ends(bot, channel)
    assert first_end is not None

    renewed = bot.emu.subscription_renews(paid.charge_id)
    await bot.idle()
    update = copy.deepcopy(bot.emu.hub.emitted[-1])
    bot.emu.hub.emit("message", update["message"])  # Telegram delivers it again
    await bot.idle()
    stopped = await bot.say(SUBSCRIBER, "/stoprenewal")
    again = await bot.say(SUBSCRIBER, "/stoprenewal")

    assert renewed.outcome is PayOutcome.PAID
    assert await ends(bot, channel) == first_end + timedelta(days=30)
    assert (await bot.world.audit_actions()).count("payment.granted") == 2
    assert stopped.text == (
        "Done: your Stars subscription will not renew. You keep access until the end of "
        "what you paid for."
    )
    assert again.text == "You have no Telegram Stars subscription that renews."
    assert bot.world.stars is not None
    assert bot.world.stars.stopped == [(UserId(SUBSCRIBER), paid.charge_id)]
    assert await ends(bot, channel) == first_end + timedelta(days=30)


async def _has(bot: Bot, channel: Channel) -> bool:
    return await ends(bot, channel) is not None


async def test_owners_sell_a_tier_as_a_stars_subscription_with_auto(bot: Bot) -> None:
    saved = await bot.say(OWNER, "/tiers 1 1=10USD+500XTR/30d+auto 2=25USD+1200XTR/90d")
    refused = await bot.say(OWNER, "/tiers 1 1=10USD+500XTR/31d+auto")
    crypto = await bot.say(OWNER, "/tiers 1 1=10USD/30d+auto")
    async with bot.world.uow() as tx:
        (stored,) = await tx.channels.all()

    assert saved.text.splitlines()[1:3] == [
        "• tier 1: 30 days — 10 USD or 500 XTR, renewing every 30 days",
        "• tier 2: 90 days — 25 USD or 1200 XTR",
    ]
    assert refused.text == "A Stars subscription lasts 30 days."
    assert crypto.text == "Only a tier with a Stars price can renew in Stars."
    assert [t.stars_renews for t in stored.tiers] == [True, False]


async def test_status_shows_the_renewal_and_offers_no_second_payment(
    bot: Bot, channel: Channel
) -> None:
    url = await subscription_link(bot, channel)
    await bot.emu.user_pays(SUBSCRIBER, url)
    await bot.until_true(lambda: _has(bot, channel), "the subscription")
    await bot.idle()

    status = await bot.say(SUBSCRIBER, "/status")

    assert status.text.splitlines()[1].endswith(
        "; Telegram renews it in Stars (/stoprenewal to stop)"
    )
    assert labels(status) == ["Send my link again"]
