from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest

from core.domain.errors import InvalidAmount
from core.domain.ids import MessageId, UserId
from core.domain.intent_state import IntentStatus
from core.domain.offer_token import OfferToken
from core.domain.outbox import SendMessage
from core.domain.payment import EventOutcome
from core.domain.tier import Tier
from core.services.broadcasts import PostKind, StaleReason
from tests.unit.services.world import CLOSED, KEYRING, OPEN, OWNER, World, usd

DONOR = UserId(77)


async def test_a_donation_within_bounds_gets_an_invoice_for_that_amount(world: World) -> None:
    channel = await world.channel()
    invoice = await world.donate.execute(DONOR, channel.id, Decimal("12.50"))
    assert invoice.price == usd("12.50")
    assert world.gateway.requests[-1].description == "Donation"


@pytest.mark.parametrize("amount", ["0.50", "501", "3.141"])
async def test_donations_outside_the_rules_get_no_invoice(world: World, amount: str) -> None:
    channel = await world.channel()
    with pytest.raises(InvalidAmount):
        await world.donate.execute(DONOR, channel.id, Decimal(amount))
    assert world.gateway.requests == []


async def test_a_channel_without_donations_refuses_them(world: World) -> None:
    channel = await world.channel(donations=False)
    with pytest.raises(InvalidAmount, match="does not take donations"):
        await world.donate.execute(DONOR, channel.id, Decimal(5))


async def test_a_paid_donation_is_recorded_once_the_donor_thanked_the_owner_told(
    world: World,
) -> None:
    channel = await world.channel()
    invoice = await world.donate.execute(DONOR, channel.id, Decimal(20))
    assert (await world.pay(invoice)).outcome is EventOutcome.GRANTED
    await world.verify.execute(world.notification(invoice, IntentStatus.FINISHED))
    async with world.uow() as tx:
        donations = await tx.donations.for_channel(channel.id)
        sub = await tx.subscriptions.find(DONOR, channel.id)
    assert [(d.user_id, d.amount) for d in donations] == [(DONOR, usd(20))]
    assert sub is None
    assert any("Thank you" in t for t in await world.texts_to(DONOR))
    assert any("Donation to Alpha Signals" in t for t in await world.texts_to(OWNER))


async def test_two_donations_are_two_intents(world: World) -> None:
    channel = await world.channel()
    first = await world.donate.execute(DONOR, channel.id, Decimal(5))
    second = await world.donate.execute(DONOR, channel.id, Decimal(5))
    assert first.intent_id != second.intent_id


async def test_a_new_channel_needs_its_offer_and_donate_posts(world: World) -> None:
    channel = await world.channel()
    plan = await world.plan.execute()
    assert [(p.kind, p.chat_id, p.reason) for p in plan] == [
        (PostKind.OFFER, OPEN, StaleReason.NEVER_POSTED),
        (PostKind.DONATE, CLOSED, StaleReason.NEVER_POSTED),
    ]
    offer = plan[0].message
    urls = [b.url or "" for row in offer.buttons for b in row]
    assert len(urls) == 2
    token = urls[0].split("?start=")[1]
    assert urls[0].startswith("https://t.me/PayGateBot?start=")
    assert OfferToken.decode(token, KEYRING) == OfferToken(channel.id, 1)
    assert "10 USD" in offer.text


async def test_posted_offers_are_left_alone_until_tiers_change_or_refresh_is_due(
    world: World,
) -> None:
    channel = await world.channel()
    await world.record_post.execute(channel.id, PostKind.OFFER, MessageId(10))
    await world.record_post.execute(channel.id, PostKind.DONATE, MessageId(11))
    assert await world.plan.execute() == []
    await world.set_tiers.execute(OWNER, channel.id, (Tier(1, usd(9), 30),))
    plan = await world.plan.execute()
    assert [(p.reason, p.replaces) for p in plan] == [(StaleReason.TIERS_CHANGED, MessageId(10))]
    await world.record_post.execute(channel.id, PostKind.OFFER, MessageId(12))
    world.clock.advance(timedelta(hours=24))
    assert [p.reason for p in await world.plan.execute()] == [StaleReason.DUE_REFRESH]


async def test_paused_channels_get_no_posts(world: World) -> None:
    await world.channel()
    await world.sales.pause(CLOSED, "lost rights")
    assert await world.plan.execute() == []
    assert all(isinstance(e, SendMessage) for e in await world.effects())
