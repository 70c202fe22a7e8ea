"""What a person pays with the coupons they redeemed: computed on the server, at
checkout, from the stored coupons; never read from a link or a button.

A redemption discounts the person's checkouts of the channels its coupon covers
while the coupon is on and not expired, until a checkout it lowered is paid (its
intent fulfilled): then the discount is spent. Of several that apply, the lowest
price wins.
"""

from __future__ import annotations

from collections.abc import Iterable

import attrs

from core.domain.channel import Channel
from core.domain.coupon import Coupon, Redemption
from core.domain.errors import InvalidTier
from core.domain.ids import ChannelId, UserId
from core.domain.money import Money
from core.domain.tier import Rail, Tier
from core.ports.clock import Clock
from core.ports.errors import NotFound
from core.ports.repositories import UnitOfWork, UnitOfWorkFactory


def discounted_tier(coupon: Coupon, tier: Tier, rail: Rail) -> Money:
    """The tier's price on ``rail`` with ``coupon``'s discount."""
    return coupon.discount.price_of(tier.price_on(rail))


@attrs.frozen
class CouponPrice:
    coupon: Coupon
    price: Money


@attrs.frozen
class OfferDiscount:
    """What an offer costs this person with their code, on each rail it is sold."""

    code: str
    price: Money
    stars_price: Money | None


@attrs.define(eq=False)
class CouponPrices:
    _uow: UnitOfWorkFactory
    _clock: Clock

    async def best(
        self, user_id: UserId, channel: Channel, tier: Tier, rail: Rail
    ) -> CouponPrice | None:
        """The lowest price a redeemed, unspent coupon gives this person for ``tier``
        of ``channel`` on ``rail``; None when none lowers it."""
        full = tier.price_on(rail)
        best: CouponPrice | None = None
        async with self._uow() as tx:
            now = self._clock.now()
            for redemption in await tx.coupons.redemptions_of(user_id):
                coupon = await tx.coupons.get(redemption.coupon_id)
                if coupon is None or not coupon.discounts_at(now):
                    continue
                if not coupon.covers(channel.id, channel.owner_id, tier.number):
                    continue
                if await _spent(tx, redemption):
                    continue
                price = discounted_tier(coupon, tier, rail)
                if price < full and (best is None or price < best.price):
                    best = CouponPrice(coupon, price)
        return best

    async def on_offer(
        self, user_id: UserId, channel_id: ChannelId, tier_number: int, rails: Iterable[Rail]
    ) -> OfferDiscount | None:
        """The lowered prices of that tier for this person (shown with the offer); None
        when no code of theirs lowers it."""
        async with self._uow() as tx:
            try:
                channel = await tx.channels.get(channel_id)
                tier = channel.tier(tier_number)
            except (NotFound, InvalidTier):
                return None
        found = {rail: await self.best(user_id, channel, tier, rail) for rail in rails}
        crypto, stars = found.get(Rail.CRYPTO), found.get(Rail.STARS)
        lowered = crypto or stars
        if lowered is None:
            return None
        return OfferDiscount(
            lowered.coupon.code,
            crypto.price if crypto else tier.price,
            stars.price if stars else tier.stars_price,
        )


async def _spent(tx: UnitOfWork, redemption: Redemption) -> bool:
    """Whether the checkout the redemption last lowered was paid."""
    if redemption.intent_id is None:
        return False
    try:
        intent = await tx.intents.get(redemption.intent_id)
    except NotFound:
        return False
    return intent.is_fulfilled
