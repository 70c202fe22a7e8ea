"""Paying in Telegram Stars through the real bot: the offer's two rails, the Stars
invoice, the pre-checkout answer Telegram waits for, the payment's grant, and
/refund."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import pytest

from core.domain.channel import Channel
from core.domain.ids import UserId
from core.domain.money import Money
from core.domain.offer_token import OfferToken
from core.domain.outbox import IssueInvite
from core.domain.tier import Tier
from sandbox.telegram.stars import PayOutcome
from tests.contract.bot.harness import STRANGER, SUBSCRIBER, Bot, button, labels, polling_bot
from tests.unit.services.world import KEYRING, OWNER, build, usd

STARS_TIERS = (Tier(1, usd(10), 30, Money.of(500, "XTR")), Tier(2, usd(25), 90))


@asynccontextmanager
async def bot_taking_stars() -> AsyncIterator[Bot]:
    world = build(stars=True)
    await world.channel(STARS_TIERS)
    async with polling_bot(world) as running:
        yield running


@pytest.fixture
async def bot() -> AsyncIterator[Bot]:
    """The bot of a deployment that takes Stars; tier 1 costs 10 USD or 500 XTR."""
    async with bot_taking_stars() as running:
        yield running


@pytest.fixture
async def channel(bot: Bot) -> Channel:
    async with bot.world.uow() as tx:
        (only,) = await tx.channels.all()
    return only


async def stars_invoice_link(bot: Bot, channel: Channel) -> str:
    """The subscriber opens tier 1 and chooses Stars; the invoice the bot made is put
    on the emulator as the Stars gateway would (createInvoiceLink, payload = order)."""
    token = OfferToken(channel.id, 1).encode(KEYRING)
    offer = await bot.say(SUBSCRIBER, f"/start {token}")
    await bot.press(SUBSCRIBER, offer, "Pay 500 XTR")
    invoice = await bot.until(
        lambda: next((m for m in bot.from_bot(SUBSCRIBER) if "Pay now" in labels(m)), None),
        "the Stars invoice",
    )
    assert bot.world.stars is not None
    (request,) = bot.world.stars.requests
    assert button(invoice, "Pay now")["url"].startswith("https://t.me/")
    return bot.emu.stars.create_invoice_link(
        title="Subscription",
        description=request.description,
        payload=request.order_id,
        currency="XTR",
        prices=[{"label": "Subscription", "amount": int(request.price.amount)}],
        provider_token=None,
        subscription_period=None,
    )


async def test_the_offer_of_a_tier_with_a_stars_price_shows_both_rails(
    bot: Bot, channel: Channel
) -> None:
    token = OfferToken(channel.id, 1).encode(KEYRING)

    offer = await bot.say(SUBSCRIBER, f"/start {token}")

    assert offer.text.splitlines()[1] == "Tier 1: 30 days for 10 USD or 500 XTR."
    assert labels(offer) == ["Pay in crypto", "Pay 500 XTR"]
    assert button(offer, "Pay 500 XTR")["callback_data"] == f"s:{token}"


async def test_a_stars_payment_is_asked_answered_and_granted(bot: Bot, channel: Channel) -> None:
    url = await stars_invoice_link(bot, channel)

    paid = await bot.emu.user_pays(SUBSCRIBER, url)

    assert paid.outcome is PayOutcome.PAID

    async def subscribed() -> bool:
        async with bot.world.uow() as tx:
            return await tx.subscriptions.find(UserId(SUBSCRIBER), channel.id) is not None

    await bot.until_true(subscribed, "the subscription")
    invites = [e for e in await bot.world.effects() if isinstance(e, IssueInvite)]
    assert len(invites) == 1
    assert "payment.granted" in await bot.world.audit_actions()
    assert [ok for _, ok, _ in bot.emu.stars.answers] == [True]


async def test_someone_else_paying_the_invoice_is_refused_before_any_star_is_taken(
    bot: Bot, channel: Channel
) -> None:
    url = await stars_invoice_link(bot, channel)

    paid = await bot.emu.user_pays(STRANGER, url)

    assert (paid.outcome, paid.error_message) == (
        PayOutcome.REFUSED,
        "This invoice was made for someone else. Tap the offer to get your own.",
    )
    assert bot.emu.stars.charges == {}


async def test_a_second_payment_of_a_paid_invoice_is_refused(bot: Bot, channel: Channel) -> None:
    url = await stars_invoice_link(bot, channel)
    first = await bot.emu.user_pays(SUBSCRIBER, url)

    second = await bot.emu.user_pays(SUBSCRIBER, url)

    assert first.outcome is PayOutcome.PAID
    assert second.outcome is PayOutcome.REFUSED
    assert len(bot.emu.stars.charges) == 1


async def test_only_the_owner_or_an_operator_may_refund(bot: Bot, channel: Channel) -> None:
    url = await stars_invoice_link(bot, channel)
    paid = await bot.emu.user_pays(SUBSCRIBER, url)
    assert paid.charge_id is not None
    await bot.idle()

    refused = await bot.say(STRANGER, f"/refund {paid.charge_id} I want it")
    done = await bot.say(OWNER, f"/refund {paid.charge_id} asked by the subscriber")
    usage = await bot.say(OWNER, "/refund")

    assert refused.text == "Only an operator or the channel's owner can refund."
    assert done.text.startswith(f"Refunded 500 XTR of payment {paid.charge_id}")
    assert usage.text.startswith("Write /refund <charge id> <reason>")
    assert bot.world.stars is not None
    assert bot.world.stars.refunds == [(UserId(SUBSCRIBER), paid.charge_id)]


async def test_owners_set_stars_prices_only_where_stars_are_taken() -> None:
    crypto_only = build()
    await crypto_only.channel()
    async with polling_bot(crypto_only) as running:
        refused = await running.say(OWNER, "/tiers 1 1=10USD+500XTR/30d")
    async with bot_taking_stars() as running:
        saved = await running.say(OWNER, "/tiers 1 1=10USD+500XTR/30d 2=25USD/90d")
        async with running.world.uow() as tx:
            (stored,) = await tx.channels.all()

    assert refused.text == "This bot does not take Telegram Stars."
    assert saved.text.splitlines()[:3] == [
        "Alpha Signals: tiers saved.",
        "• tier 1: 30 days — 10 USD or 500 XTR",
        "• tier 2: 90 days — 25 USD",
    ]
    assert [t.stars_price for t in stored.tiers] == [Money.of(500, "XTR"), None]
