"""Checkout: from an offer button to a hosted invoice link.

Two steps, as the subscriber sees them: the token from the deep link is resolved to
what it offers (shown for confirmation), then the confirmed choice becomes an intent
and an invoice. The price always comes from the stored channel, never the token.
"""

from __future__ import annotations

import attrs

from core.domain.channel import Channel
from core.domain.errors import InvalidTier, InvalidToken, SalesPaused, Why
from core.domain.ids import ChannelId, UserId
from core.domain.offer_token import OfferToken
from core.domain.payment import Purpose
from core.domain.signing import MacKeyring
from core.domain.tier import Rail, Tier
from core.ports.errors import NotFound
from core.ports.repositories import UnitOfWorkFactory
from core.services.invoicing import InvoiceIssuer, InvoiceOrder, IssuedInvoice


@attrs.frozen
class Offer:
    channel_id: ChannelId
    title: str
    tier: Tier
    rails: tuple[Rail, ...] = (Rail.CRYPTO,)
    """The ways to pay for it here: the tier's rails this deployment takes."""


def _rails(given: frozenset[Rail] | None) -> frozenset[Rail]:
    """None (a setting a container leaves unset) means crypto only."""
    return given if given is not None else frozenset({Rail.CRYPTO})


@attrs.define(eq=False)
class ResolveOffer:
    """Turns a deep-link payload into the offer it names, or a clear InvalidToken."""

    _uow: UnitOfWorkFactory
    _keyring: MacKeyring
    _rails: frozenset[Rail] = attrs.field(default=None, converter=_rails)
    """The rails this deployment takes (Stars only with a Stars gateway)."""

    async def execute(self, token_text: str) -> Offer:
        token = OfferToken.decode(token_text, self._keyring)
        if token.is_donation:
            raise InvalidToken(Why.OFFER_FOR_DONATIONS)
        channel = await _selling_channel(self._uow, token.channel_id)
        try:
            tier = channel.tier(token.tier)
        except InvalidTier as exc:
            raise InvalidToken(Why.OFFER_CHANGED) from exc
        rails = tuple(rail for rail in tier.rails if rail in self._rails)
        return Offer(channel.id, channel.title, tier, rails)


@attrs.define(eq=False)
class StartCheckout:
    """The subscriber confirmed, on one rail: make (or reuse) the intent and its
    invoice with that rail's provider, at the tier's price on that rail."""

    _uow: UnitOfWorkFactory
    _issuer: InvoiceIssuer
    _stars: InvoiceIssuer | None = None
    """Issues Stars invoices; None where Stars are not taken."""

    async def execute(
        self,
        user_id: UserId,
        channel_id: ChannelId,
        tier_number: int,
        rail: Rail = Rail.CRYPTO,
    ) -> IssuedInvoice:
        channel = await _selling_channel(self._uow, channel_id)
        tier = channel.tier(tier_number)
        issuer = self._issuer
        if rail is Rail.STARS:
            if self._stars is None:
                raise InvalidTier(Why.STARS_NOT_TAKEN)
            issuer = self._stars
        return await issuer.issue(
            InvoiceOrder(
                purpose=Purpose.SUBSCRIPTION,
                user_id=user_id,
                channel=channel,
                price=tier.price_on(rail),
                description=_description(tier),
                tier=tier.number,
                duration_days=tier.duration_days,
                renews=rail is Rail.STARS and tier.stars_renews,
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
            raise InvalidToken(Why.OFFER_GONE) from exc
    if channel.sales_paused:
        raise SalesPaused(Why.SALES_PAUSED, title=channel.title)
    if not channel.tiers:
        raise InvalidToken(Why.NO_OFFERS)
    return channel
