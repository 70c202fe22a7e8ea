"""Checkout: from an offer button to a hosted invoice link.

Two steps, as the subscriber sees them: the token from the deep link is resolved to
what it offers (shown for confirmation), then the confirmed choice becomes an intent
and an invoice. The price always comes from the stored channel, never the token.
"""

from __future__ import annotations

import attrs

from core.domain.channel import Channel
from core.domain.errors import InvalidTier, InvalidToken, SalesPaused
from core.domain.ids import ChannelId, UserId
from core.domain.offer_token import OfferToken
from core.domain.payment import Purpose
from core.domain.signing import MacKeyring
from core.domain.tier import Tier
from core.ports.errors import NotFound
from core.ports.repositories import UnitOfWorkFactory
from core.services.invoicing import InvoiceIssuer, InvoiceOrder, IssuedInvoice


@attrs.frozen
class Offer:
    channel_id: ChannelId
    title: str
    tier: Tier


@attrs.define(eq=False)
class ResolveOffer:
    """Turns a deep-link payload into the offer it names, or a clear InvalidToken."""

    _uow: UnitOfWorkFactory
    _keyring: MacKeyring

    async def execute(self, token_text: str) -> Offer:
        token = OfferToken.decode(token_text, self._keyring)
        if token.is_donation:
            raise InvalidToken("this link is for donations, not a subscription")
        channel = await _selling_channel(self._uow, token.channel_id)
        try:
            tier = channel.tier(token.tier)
        except InvalidTier as exc:
            raise InvalidToken(
                "this offer has changed; please pick a tier from the channel again"
            ) from exc
        return Offer(channel.id, channel.title, tier)


@attrs.define(eq=False)
class StartCheckout:
    """The subscriber confirmed: make (or reuse) the intent and its invoice."""

    _uow: UnitOfWorkFactory
    _issuer: InvoiceIssuer

    async def execute(
        self, user_id: UserId, channel_id: ChannelId, tier_number: int
    ) -> IssuedInvoice:
        channel = await _selling_channel(self._uow, channel_id)
        tier = channel.tier(tier_number)
        return await self._issuer.issue(
            InvoiceOrder(
                purpose=Purpose.SUBSCRIPTION,
                user_id=user_id,
                channel=channel,
                price=tier.price,
                description=_description(tier),
                tier=tier.number,
                duration_days=tier.duration_days,
            )
        )


def _description(tier: Tier) -> str:
    """What the provider's page says is bought (the provider's words, not the bot's)."""
    period = "1 day" if tier.duration_days == 1 else f"{tier.duration_days} days"
    return f"Subscription {period} (tier {tier.number})"


async def _selling_channel(uow: UnitOfWorkFactory, channel_id: ChannelId) -> Channel:
    async with uow() as tx:
        try:
            channel = await tx.channels.get(channel_id)
        except NotFound as exc:
            raise InvalidToken("this offer is no longer available") from exc
    if channel.sales_paused:
        raise SalesPaused(f"{channel.title} is not taking new subscriptions right now")
    if not channel.tiers:
        raise InvalidToken("this channel has no offers right now")
    return channel
