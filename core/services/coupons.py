"""Owners' coupons (issue 21): make one, list them with their uses, switch one off.

An owner makes codes for their own channels only (someone else's channel is
refused as unknown); a code is taken once across the deployment, and a generated
one is tried again on the rare clash. Every change is audited.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

import attrs

from core.domain.audit import AuditRecord
from core.domain.channel import Channel
from core.domain.coupon import (
    Coupon,
    CouponId,
    CouponRefused,
    Discount,
    generated_code,
    normalize_code,
)
from core.domain.errors import UnknownChannel, Why
from core.domain.ids import ChannelId, UserId
from core.ports.clock import Clock, IdGenerator
from core.ports.errors import NotFound
from core.ports.repositories import UnitOfWork, UnitOfWorkFactory

GENERATION_TRIES = 5


@attrs.frozen
class CouponTerms:
    """What the owner asked for; ``code`` None: make one up."""

    discount: Discount
    code: str | None = None
    channel_id: ChannelId | None = None
    max_uses: int | None = None
    expires_at: datetime | None = None
    tier: int | None = None
    """Only this tier number; None: every tier."""


@attrs.define(eq=False)
class OwnerCoupons:
    _uow: UnitOfWorkFactory
    _clock: Clock
    _ids: IdGenerator

    async def create(self, owner: UserId, terms: CouponTerms) -> Coupon:
        """Raises CouponRefused (bad terms, code taken), UnknownChannel (none of theirs)."""
        wanted = None if terms.code is None else normalize_code(terms.code)
        for _ in range(GENERATION_TRIES):
            code = wanted or generated_code(self._ids.new_id())
            async with self._uow() as tx:
                channels = await _covered(tx, owner, terms.channel_id)
                now = self._clock.now()
                coupon = Coupon(
                    id=CouponId(self._ids.new_id()),
                    code=code,
                    owner_id=owner,
                    discount=terms.discount,
                    created_at=now,
                    channel_id=terms.channel_id,
                    max_uses=terms.max_uses,
                    expires_at=terms.expires_at,
                    tier=terms.tier,
                )
                _check_currency(coupon, channels)
                if await tx.coupons.add(coupon):
                    await tx.audit.append(_created(coupon), now)
                    await tx.commit()
                    return coupon
            if wanted is not None:
                break
        raise CouponRefused(Why.COUPON_CODE_TAKEN)

    async def list(self, owner: UserId) -> Sequence[Coupon]:
        async with self._uow() as tx:
            return await tx.coupons.of_owner(owner)

    async def switch_off(self, owner: UserId, code_text: str) -> Coupon:
        """Raises CouponRefused(UNKNOWN) for a code that is not this owner's."""
        code = normalize_code(code_text)
        async with self._uow() as tx:
            coupon = await tx.coupons.by_code(code)
            if coupon is None or coupon.owner_id != owner:
                raise CouponRefused(Why.COUPON_UNKNOWN)
            if await tx.coupons.switch_off(coupon.id):
                await tx.audit.append(
                    AuditRecord(f"user:{owner}", "coupon.switched_off", f"coupon:{coupon.id}"),
                    self._clock.now(),
                )
                await tx.commit()
            coupon.active = False
            return coupon


async def _covered(tx: UnitOfWork, owner: UserId, channel_id: ChannelId | None) -> list[Channel]:
    if channel_id is None:
        owned = list(await tx.channels.by_owner(owner))
        if not owned:  # codes are for channels: nobody else takes one up
            raise UnknownChannel(Why.COUPON_NO_CHANNELS)
        return owned
    try:
        channel = await tx.channels.get(channel_id)
    except NotFound as exc:
        raise UnknownChannel(Why.NO_SUCH_CHANNEL) from exc
    if channel.owner_id != owner:
        raise UnknownChannel(Why.NO_SUCH_CHANNEL)
    return [channel]


def _check_currency(coupon: Coupon, channels: Sequence[Channel]) -> None:
    """An amount off must be in the currency of some channel it covers."""
    amount = coupon.discount.amount
    if amount is None:
        return
    currencies = {tier.price.currency for channel in channels for tier in channel.tiers}
    if currencies and amount.currency not in currencies:
        raise CouponRefused(Why.COUPON_WRONG_CURRENCY, currency=sorted(currencies)[0])


def _created(coupon: Coupon) -> AuditRecord:
    d = coupon.discount
    details = {
        "code": coupon.code,
        "kind": str(d.kind),
        "value": str(d.percent or d.amount or d.days),
        "channel": coupon.channel_id or "all",
    }
    if coupon.tier is not None:
        details["tier"] = str(coupon.tier)
    if coupon.max_uses is not None:
        details["max_uses"] = str(coupon.max_uses)
    if coupon.expires_at is not None:
        details["expires_at"] = coupon.expires_at.isoformat()
    return AuditRecord(f"user:{coupon.owner_id}", "coupon.created", f"coupon:{coupon.id}", details)
