from __future__ import annotations

import asyncio
from datetime import timedelta
from decimal import Decimal

import pytest

from adapters.catalog.notices import render
from adapters.outbound.memory.messenger import InMemoryMessenger
from core.domain.errors import InvalidAmount
from core.domain.ids import ChatId, MessageId, UserId
from core.domain.intent_state import IntentStatus
from core.domain.messages import Notice
from core.domain.offer_token import OfferToken
from core.domain.outbox import SendMessage
from core.domain.payment import EventOutcome
from core.domain.tier import Tier
from core.services.broadcasts import BroadcastPlan, PostKind, StaleReason
from core.services.publish_posts import PublishPosts
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
    with pytest.raises(InvalidAmount, match="no_donations"):
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
    plan = (await world.plan.execute()).posts
    assert [(p.kind, p.chat_id, p.reason) for p in plan] == [
        (PostKind.OFFER, OPEN, StaleReason.NEVER_POSTED),
        (PostKind.DONATE, CLOSED, StaleReason.NEVER_POSTED),
    ]
    offer = render(plan[0].message)
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
    version = channel.tiers_version
    assert await world.record_post.execute(channel.id, PostKind.OFFER, MessageId(10), None, version)
    assert await world.record_post.execute(
        channel.id, PostKind.DONATE, MessageId(11), None, version
    )
    assert await world.plan.execute() == BroadcastPlan()
    await world.set_tiers.execute(OWNER, channel.id, (Tier(1, usd(9), 30),))
    plan = (await world.plan.execute()).posts
    assert [(p.reason, p.replaces) for p in plan] == [(StaleReason.TIERS_CHANGED, MessageId(10))]
    assert await world.record_post.execute(
        channel.id, PostKind.OFFER, MessageId(12), MessageId(10), plan[0].tiers_version
    )
    world.clock.advance(timedelta(hours=24))
    assert [(p.kind, p.reason) for p in (await world.plan.execute()).posts] == [
        (PostKind.OFFER, StaleReason.DUE_REFRESH),
        (PostKind.DONATE, StaleReason.DUE_CHECK),
    ]


async def test_a_post_recorded_over_a_replaced_one_loses_and_writes_nothing(
    world: World,
) -> None:
    channel = await world.channel()
    version = channel.tiers_version
    assert await world.record_post.execute(channel.id, PostKind.OFFER, MessageId(10), None, version)
    # A second publisher that planned from the same state (nothing standing yet).
    assert not await world.record_post.execute(
        channel.id, PostKind.OFFER, MessageId(20), None, version
    )
    stored = await world.channel_now(channel.id)
    assert stored.offer_post is not None
    assert stored.offer_post.message_id == MessageId(10)


async def test_workers_publishing_at_once_leave_one_offer_standing(world: World) -> None:
    """Every worker plans from the same state; the ones that lose the race take their
    duplicate down, so the open channel shows one offer."""
    channel = await world.channel()

    class SlowTelegram(InMemoryMessenger):
        """Sending takes a moment, as over the network: the workers overlap."""

        async def send(self, chat_id: ChatId, message: Notice) -> MessageId:
            await asyncio.sleep(0.01)
            return await world.messenger.send(chat_id, message)

        async def delete(self, chat_id: ChatId, message_id: MessageId) -> None:
            await world.messenger.delete(chat_id, message_id)

    publish = PublishPosts(
        world.uow, world.clock, world.plan, world.record_post, world.sales, SlowTelegram()
    )
    reports = await asyncio.gather(*(publish.run_once() for _ in range(3)))
    assert sum(r.posted for r in reports) == 2  # one offer, one Donate message
    sent_to_open = [m for m in world.messenger.sent if m.chat_id == OPEN]
    assert len(sent_to_open) == 3, "the three workers raced (each sent its offer)"
    assert len(world.messenger.visible(OPEN)) == 1
    assert len(world.messenger.visible(CLOSED)) == 1
    standing = (await world.channel_now(channel.id)).offer_post
    assert standing is not None
    assert standing.message_id == world.messenger.visible(OPEN)[0].message_id


async def test_paused_channels_get_no_posts(world: World) -> None:
    await world.channel()
    await world.sales.pause(CLOSED, "lost rights")
    assert await world.plan.execute() == BroadcastPlan()
    assert all(isinstance(e, SendMessage) for e in await world.effects())
