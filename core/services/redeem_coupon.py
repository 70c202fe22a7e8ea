"""Redeeming a coupon (issue 21): by its deep link (``/start c-CODE``) or typed.

A use is taken when a person redeems the code: in one unit of work the coupon's
count goes up (only while uses are left: of two people racing for the last use,
exactly one gets it) and the person's redemption is stored (once per person and
coupon). Redeeming a code one holds already shows its offer again and takes
nothing. What a redemption gives:

- free days: a grant through the normal path, in the same unit of work (the
  subscription started or extended, its grant queued, the invite sent by the
  outbox), so exactly once;
- a discount: the offer of every tier the code covers at its lowered price. The
  price is computed again at checkout (:class:`CouponPrices`), from the stored
  coupon, and is what the payment intent keeps and what the payment is checked
  against. The discount stays the person's until a checkout it lowered is paid.
"""

from __future__ import annotations

from datetime import datetime, timedelta

import attrs

from core.domain.audit import AuditRecord
from core.domain.channel import Channel
from core.domain.coupon import Coupon, CouponRefused, Redemption, normalize_code
from core.domain.errors import Why
from core.domain.grant import AccessGrant, GrantMode
from core.domain.ids import ChannelId, ChatId, GrantId, SubscriptionId, UserId
from core.domain.money import Money
from core.domain.outbox import Effect, IssueInvite, RefreshInvite, SendMessage
from core.domain.subscription import Subscription
from core.domain.tier import Rail, Tier
from core.ports.clock import Clock, IdGenerator
from core.ports.errors import Conflict
from core.ports.payment_ledger import PaymentChanges
from core.ports.repositories import UnitOfWork, UnitOfWorkFactory
from core.services import notices
from core.services.coupon_prices import discounted_tier


@attrs.frozen
class PricedTier:
    """A tier as the code offers it: its own prices and the lowered ones."""

    channel_id: ChannelId
    title: str
    tier: Tier
    price: Money
    stars_price: Money | None

    @property
    def lowers(self) -> bool:
        """Whether the code makes it cheaper on some rail (an amount off in another
        currency, or a tier already at the floor, does not)."""
        stars, full_stars = self.stars_price, self.tier.stars_price
        if stars is not None and full_stars is not None and not stars.same_value(full_stars):
            return True
        return not self.price.same_value(self.tier.price)


@attrs.frozen
class Redeemed:
    coupon: Coupon
    tiers: tuple[PricedTier, ...] = ()
    """A discount: what it lowers, channel by channel, tier by tier."""
    granted_until: datetime | None = None
    """Free days: the end of the access they gave."""
    channel_title: str | None = None
    again: bool = False
    """The person had redeemed it before: nothing more was taken."""


@attrs.define(eq=False)
class RedeemCoupon:
    _uow: UnitOfWorkFactory
    _clock: Clock
    _ids: IdGenerator
    _grant_mode: GrantMode = GrantMode.JOIN_REQUEST
    _rails: frozenset[Rail] = frozenset({Rail.CRYPTO})

    async def execute(self, user_id: UserId, code_text: str) -> Redeemed:
        """Raises CouponRefused: unknown, expired, used up, already used (free days),
        nothing on sale."""
        code = normalize_code(code_text)
        async with self._uow() as tx:
            now = self._clock.now()
            coupon = await tx.coupons.by_code(code)
            if coupon is None:
                raise CouponRefused(Why.COUPON_UNKNOWN)
            held = await tx.coupons.redemption(coupon.id, user_id)
            if held is not None and coupon.discount.is_grant:
                raise CouponRefused(Why.COUPON_ALREADY_REDEEMED)
            if held is None:
                coupon.check_redeemable(now)
            elif not coupon.discounts_at(now):
                raise CouponRefused(Why.COUPON_EXPIRED)
            channels = [c for c in await _channels(tx, coupon) if not c.sales_paused]
            tiers = self._priced(coupon, channels)
            if not channels or (not coupon.discount.is_grant and not tiers):
                raise CouponRefused(Why.COUPON_NOTHING_ON_SALE)
            if held is not None:
                return Redeemed(coupon, tiers, again=True)
            try:
                taken = await tx.coupons.redeem(Redemption(coupon.id, user_id, now))
            except Conflict as exc:  # the same person twice at once: the first counts
                if coupon.discount.is_grant:
                    raise CouponRefused(Why.COUPON_ALREADY_REDEEMED) from exc
                return Redeemed(coupon, tiers, again=True)
            if not taken:
                raise CouponRefused(Why.COUPON_USED_UP)
            await tx.audit.append(_redeemed(coupon, user_id), now)
            if not coupon.discount.is_grant:
                await tx.commit()
                return Redeemed(coupon, tiers)
            channel = channels[0]
            until = await self._grant(tx, coupon, channel, user_id, now)
            await tx.commit()
            return Redeemed(coupon, granted_until=until, channel_title=channel.title)

    def _priced(self, coupon: Coupon, channels: list[Channel]) -> tuple[PricedTier, ...]:
        """The tiers the code lowers (on some rail), with their lowered prices."""
        if coupon.discount.is_grant:
            return ()
        priced = (
            PricedTier(
                channel.id,
                channel.title,
                tier,
                discounted_tier(coupon, tier, Rail.CRYPTO),
                discounted_tier(coupon, tier, Rail.STARS)
                if Rail.STARS in self._rails and tier.stars_price is not None
                else None,
            )
            for channel in channels
            for tier in channel.tiers
            if coupon.covers(channel.id, channel.owner_id, tier.number)
        )
        return tuple(p for p in priced if p.lowers)

    async def _grant(
        self, tx: UnitOfWork, coupon: Coupon, channel: Channel, user: UserId, now: datetime
    ) -> datetime:
        """The free days, as a payment's fulfilment gives them (see fulfilment.py)."""
        assert coupon.discount.days is not None
        length = timedelta(days=coupon.discount.days)
        tier = channel.tiers[0].number if channel.tiers else 1
        found = await tx.subscriptions.find(user, channel.id)
        if found is None:
            sub = Subscription.start(
                SubscriptionId(self._ids.new_id()), user, channel.id, tier, length, now
            )
            activated = True
        else:
            sub = found
            activated = sub.extend(length, sub.tier, now)
        key = f"coupon:{coupon.id}:{user}"
        messages: list[tuple[str, Effect]] = []
        grants: list[AccessGrant] = []
        if activated:
            grant = AccessGrant(
                GrantId(self._ids.new_id()),
                sub.id,
                user,
                channel.id,
                sub.period,
                self._grant_mode,
                now,
            )
            grants.append(grant)
            messages.append((f"grant:{grant.id}", IssueInvite(grant.id)))
        else:
            renewed = notices.renewed_message(channel.title, sub.expires_at)
            messages.append((f"renewed:{key}", SendMessage(ChatId(user), renewed)))
            messages.append((f"relink:{key}", RefreshInvite(sub.id)))
        action = "subscription.started" if activated else "subscription.extended"
        details = {"coupon": coupon.id, "expires_at": sub.expires_at.isoformat()}
        await tx.payments.save(
            PaymentChanges(
                new_subscriptions=[sub] if found is None else [],
                changed_subscriptions=[] if found is None else [sub],
                grants=grants,
                audit=[AuditRecord("system", action, f"subscription:{sub.id}", details)],
                messages=messages,
            ),
            now,
        )
        return sub.expires_at


async def _channels(tx: UnitOfWork, coupon: Coupon) -> list[Channel]:
    if coupon.channel_id is None:
        return [c for c in await tx.channels.by_owner(coupon.owner_id) if c.is_selling]
    found = await tx.channels.by_owner(coupon.owner_id)
    return [c for c in found if c.id == coupon.channel_id]


def _redeemed(coupon: Coupon, user: UserId) -> AuditRecord:
    return AuditRecord(
        f"user:{user}",
        "coupon.redeemed",
        f"coupon:{coupon.id}",
        {"code": coupon.code, "kind": str(coupon.discount.kind), "used": str(coupon.used + 1)},
    )
