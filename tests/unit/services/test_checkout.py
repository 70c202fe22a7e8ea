from __future__ import annotations

from datetime import timedelta

import pytest

from core.domain.errors import InvalidToken, SalesPaused
from core.domain.ids import ChannelId, UserId
from core.domain.intent_state import IntentStatus
from core.domain.offer_token import DONATION, OfferToken
from core.domain.payment import Purpose
from core.domain.tier import Tier
from core.ports.errors import Unavailable
from tests.unit.services.world import CLOSED, KEYRING, OWNER, World, usd

USER = UserId(42)


async def test_a_valid_token_resolves_to_the_stored_tier(world: World) -> None:
    channel = await world.channel()
    offer = await world.resolve.execute(OfferToken(channel.id, 2).encode(KEYRING))
    assert (offer.title, offer.tier.number, offer.tier.price, offer.tier.duration_days) == (
        "Alpha Signals",
        2,
        usd(25),
        90,
    )


async def test_tampered_token_is_refused(world: World) -> None:
    channel = await world.channel()
    token = OfferToken(channel.id, 1).encode(KEYRING)
    with pytest.raises(InvalidToken):
        await world.resolve.execute(token[:-1] + ("A" if token[-1] != "A" else "B"))


async def test_token_for_a_removed_tier_is_stale(world: World) -> None:
    channel = await world.channel()
    token = OfferToken(channel.id, 2).encode(KEYRING)
    await world.set_tiers.execute(OWNER, channel.id, (Tier(1, usd(10), 30),))
    with pytest.raises(InvalidToken, match="offer_changed"):
        await world.resolve.execute(token)


async def test_token_for_an_unknown_channel_is_refused(world: World) -> None:
    with pytest.raises(InvalidToken, match="offer_gone"):
        await world.resolve.execute(OfferToken(ChannelId("gone"), 1).encode(KEYRING))


async def test_a_donation_token_is_not_a_subscription_offer(world: World) -> None:
    channel = await world.channel()
    with pytest.raises(InvalidToken, match="offer_for_donations"):
        await world.resolve.execute(OfferToken(channel.id, DONATION).encode(KEYRING))


async def test_checkout_creates_an_intent_priced_from_the_store_and_an_invoice(
    world: World,
) -> None:
    channel = await world.channel()
    invoice = await world.checkout.execute(USER, channel.id, 1)
    assert (invoice.price, invoice.reused) == (usd(10), False)
    assert invoice.url.endswith("/invoice/inv1")
    request = world.gateway.requests[-1]
    assert request.price == usd(10)
    assert request.description.isascii()
    async with world.uow() as tx:
        intent = await tx.intents.get(invoice.intent_id)
    assert (intent.user_id, intent.tier, intent.duration_days, intent.status) == (
        USER,
        1,
        30,
        IntentStatus.CREATED,
    )
    assert intent.invoice_url == invoice.url


async def test_a_second_checkout_reuses_the_open_intent_and_its_invoice(world: World) -> None:
    channel = await world.channel()
    first = await world.checkout.execute(USER, channel.id, 1)
    second = await world.checkout.execute(USER, channel.id, 1)
    assert (second.intent_id, second.url, second.reused) == (first.intent_id, first.url, True)
    assert len(world.gateway.requests) == 1


async def test_another_tier_gets_its_own_intent(world: World) -> None:
    channel = await world.channel()
    first = await world.checkout.execute(USER, channel.id, 1)
    second = await world.checkout.execute(USER, channel.id, 2)
    assert first.intent_id != second.intent_id


async def test_an_old_open_intent_is_superseded_not_reused(world: World) -> None:
    channel = await world.channel()
    first = await world.checkout.execute(USER, channel.id, 1)
    world.clock.advance(timedelta(hours=2))
    second = await world.checkout.execute(USER, channel.id, 1)
    assert second.intent_id != first.intent_id
    async with world.uow() as tx:
        assert (await tx.intents.get(first.intent_id)).status is IntentStatus.EXPIRED


async def test_a_price_change_supersedes_the_open_intent(world: World) -> None:
    channel = await world.channel()
    first = await world.checkout.execute(USER, channel.id, 1)
    await world.set_tiers.execute(OWNER, channel.id, (Tier(1, usd(12), 30),))
    second = await world.checkout.execute(USER, channel.id, 1)
    assert (second.intent_id != first.intent_id, second.price) == (True, usd(12))


async def test_provider_failure_keeps_the_intent_and_the_retry_reuses_it(world: World) -> None:
    channel = await world.channel()
    world.gateway.fail_next(Unavailable("provider down"))
    with pytest.raises(Unavailable):
        await world.checkout.execute(USER, channel.id, 1)
    invoice = await world.checkout.execute(USER, channel.id, 1)
    async with world.uow() as tx:
        intent = await tx.intents.find_open(USER, channel.id, Purpose.SUBSCRIPTION, 1)
    assert intent is not None
    assert intent.id == invoice.intent_id
    assert (await world.audit_actions()).count("intent.created") == 1


async def test_paused_sales_refuse_checkout(world: World) -> None:
    channel = await world.channel()
    await world.sales.pause(CLOSED, "lost rights")
    with pytest.raises(SalesPaused):
        await world.checkout.execute(USER, channel.id, 1)
    assert world.gateway.requests == []
