"""Checkout: from an offer button to a hosted invoice link.

Two steps, as the subscriber sees them: the token from the deep link is resolved to
what it offers (shown for confirmation), then the confirmed choice becomes an intent
and an invoice. The price always comes from the stored channel, never the token.
"""

from __future__ import annotations

import attrs

from core.domain.channel import Channel
from core.domain.errors import InvalidTier, InvalidToken, LifetimeHeld, SalesPaused, SeasonOver, Why
from core.domain.ids import ChannelId, UserId
from core.domain.offer_token import OfferToken
from core.domain.payment import Purpose
from core.domain.signing import MacKeyring
from core.domain.tier import Rail, Tier, TierKind
from core.domain.trial import TRIAL_TIER, TrialOffer, TrialRefusal, TrialUnavailable, trial_refusal
from core.ports.clock import Clock
from core.ports.errors import NotFound
from core.ports.repositories import UnitOfWorkFactory
from core.services.coupon_prices import CouponPrices
from core.services.invoicing import InvoiceIssuer, InvoiceOrder, IssuedInvoice


@attrs.frozen
class Offer:
    channel_id: ChannelId
    title: str
    tier: Tier
    rails: tuple[Rail, ...] = (Rail.CRYPTO,)
    """The ways to pay for it here: the tier's rails this deployment takes."""


@attrs.frozen
class TrialOffering:
    """A Trial button's deep link: the channel's trial, free or at its price."""

    channel_id: ChannelId
    title: str
    trial: TrialOffer


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
        """A tier's offer; a Trial button's token is InvalidToken here (see ``any``)."""
        found = await self.any(token_text)
        if not isinstance(found, Offer):
            raise InvalidToken(Why.OFFER_FOR_TRIAL)
        return found

    async def any(self, token_text: str) -> Offer | TrialOffering:
        """The tier or the trial the token names."""
        token = OfferToken.decode(token_text, self._keyring)
        if token.is_donation:
            raise InvalidToken(Why.OFFER_FOR_DONATIONS)
        channel = await _selling_channel(self._uow, token.channel_id)
        if token.is_trial:
            if channel.trial is None:
                raise TrialUnavailable(TrialRefusal.NOT_OFFERED)
            return TrialOffering(channel.id, channel.title, channel.trial)
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
    _coupons: CouponPrices | None = None
    """Lowers the price by the person's redeemed coupons (issue 21); None: no coupons."""
    _clock: Clock = attrs.field(kw_only=True)
    """Tells whether a season is still sold."""

    async def execute(
        self,
        user_id: UserId,
        channel_id: ChannelId,
        tier_number: int,
        rail: Rail = Rail.CRYPTO,
    ) -> IssuedInvoice:
        channel = await _selling_channel(self._uow, channel_id)
        if tier_number == TRIAL_TIER:
            return await self._trial(user_id, channel)
        tier = channel.tier(tier_number)
        if not tier.on_sale_at(self._clock.now()):
            raise SeasonOver(Why.SEASON_OVER, number=tier.number)
        async with self._uow() as tx:
            held = await tx.subscriptions.find(user_id, channel.id)
        if held is not None and held.is_lifetime:
            raise LifetimeHeld(Why.LIFETIME_HELD, title=channel.title)
        issuer = self._issuer
        if rail is Rail.STARS:
            if self._stars is None:
                raise InvalidTier(Why.STARS_NOT_TAKEN)
            issuer = self._stars
        fixed = tier.span is not TierKind.DAYS
        price, coupon = tier.price_on(rail), None
        if self._coupons is not None:
            found = await self._coupons.best(user_id, channel, tier, rail)
            if found is not None:
                price, coupon = found.price, found.coupon
        return await issuer.issue(
            InvoiceOrder(
                purpose=Purpose.SUBSCRIPTION,
                user_id=user_id,
                channel=channel,
                price=price,
                description=_description(tier),
                tier=tier.number,
                duration_days=None if fixed else tier.duration_days,
                ends_at=tier.ends_at,
                renews=rail is Rail.STARS and tier.stars_renews,
                coupon=coupon,
            )
        )

    async def _trial(self, user_id: UserId, channel: Channel) -> IssuedInvoice:
        """A paid trial is checked out like a tier, at the trial's price, once: not for
        someone who had a trial or paid for the channel before."""
        trial = channel.trial
        async with self._uow() as tx:
            refusal = trial_refusal(
                trial is not None and not trial.is_free,
                await tx.trials.taken(channel.id, user_id),
                await tx.trials.paid_before(channel.id, user_id),
            )
        if refusal is not None or trial is None or trial.price is None:
            raise TrialUnavailable(refusal or TrialRefusal.NOT_OFFERED)
        return await self._issuer.issue(
            InvoiceOrder(
                purpose=Purpose.SUBSCRIPTION,
                user_id=user_id,
                channel=channel,
                price=trial.price,
                description=f"Trial {_days(trial.days)}",
                tier=TRIAL_TIER,
                duration_days=trial.days,
            )
        )


def _days(n: int) -> str:
    return "1 day" if n == 1 else f"{n} days"


def _description(tier: Tier) -> str:
    """What the provider's page says is bought (the provider's words, not the bot's)."""
    if tier.span is TierKind.LIFETIME:
        return f"Lifetime access (tier {tier.number})"
    if tier.ends_on is not None:
        return f"Subscription until {tier.ends_on.isoformat()} (tier {tier.number})"
    return f"Subscription {_days(tier.duration_days)} (tier {tier.number})"


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
