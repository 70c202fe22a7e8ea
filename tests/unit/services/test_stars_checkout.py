"""Checkout on the Stars rail: a tier with a Stars price is offered both ways, and
paying in Stars makes an intent priced in Stars with the Stars provider."""

from __future__ import annotations

import pytest

from core.domain.errors import InvalidTier
from core.domain.ids import UserId
from core.domain.intent_state import IntentStatus
from core.domain.money import Money
from core.domain.offer_token import OfferToken
from core.domain.tier import Rail, Tier
from tests.unit.services.world import KEYRING, World, build, usd

USER = UserId(42)
STARS_TIERS = (Tier(1, usd(10), 30, Money.of(500, "XTR")), Tier(2, usd(25), 90))


@pytest.fixture
def stars_world() -> World:
    return build(stars=True)


async def test_the_offer_shows_the_rails_the_tier_has(stars_world: World) -> None:
    channel = await stars_world.channel(STARS_TIERS)

    both = await stars_world.resolve.execute(OfferToken(channel.id, 1).encode(KEYRING))
    crypto = await stars_world.resolve.execute(OfferToken(channel.id, 2).encode(KEYRING))

    assert both.rails == (Rail.CRYPTO, Rail.STARS)
    assert crypto.rails == (Rail.CRYPTO,)


async def test_where_stars_are_not_taken_the_offer_is_crypto_only(world: World) -> None:
    channel = await world.channel(STARS_TIERS)

    offer = await world.resolve.execute(OfferToken(channel.id, 1).encode(KEYRING))

    assert offer.rails == (Rail.CRYPTO,)
    with pytest.raises(InvalidTier):
        await world.checkout.execute(USER, channel.id, 1, Rail.STARS)


async def test_paying_in_stars_makes_a_stars_invoice_at_the_stars_price(
    stars_world: World,
) -> None:
    channel = await stars_world.channel(STARS_TIERS)
    assert stars_world.stars is not None

    invoice = await stars_world.checkout.execute(USER, channel.id, 1, Rail.STARS)

    intent = await stars_world.intent(invoice.intent_id)
    assert (intent.provider, intent.price, intent.status) == (
        "telegram_stars",
        Money.of(500, "XTR"),
        IntentStatus.CREATED,
    )
    assert [r.price for r in stars_world.stars.requests] == [Money.of(500, "XTR")]
    assert stars_world.gateway.requests == []
    assert invoice.url.startswith("https://t.me/")


async def test_a_tier_without_a_stars_price_cannot_be_paid_in_stars(stars_world: World) -> None:
    channel = await stars_world.channel(STARS_TIERS)

    with pytest.raises(InvalidTier):
        await stars_world.checkout.execute(USER, channel.id, 2, Rail.STARS)


async def test_changing_rail_closes_the_open_invoice_of_the_other(stars_world: World) -> None:
    channel = await stars_world.channel(STARS_TIERS)
    crypto = await stars_world.checkout.execute(USER, channel.id, 1)

    stars = await stars_world.checkout.execute(USER, channel.id, 1, Rail.STARS)

    assert stars.intent_id != crypto.intent_id
    assert (await stars_world.intent(crypto.intent_id)).status is IntentStatus.EXPIRED
    assert (await stars_world.intent(stars.intent_id)).is_open
