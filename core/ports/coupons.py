"""Where coupons and their redemptions are kept (in the unit of work: ``coupons``)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from core.domain.coupon import Coupon, CouponId, Redemption
from core.domain.ids import IntentId, UserId


class CouponRepository(Protocol):
    async def add(self, coupon: Coupon) -> bool:
        """False (nothing written) when the code is taken, by anyone."""
        ...

    async def by_code(self, code: str) -> Coupon | None:
        """The coupon with this (normalized) code."""
        ...

    async def get(self, coupon_id: CouponId) -> Coupon | None: ...

    async def of_owner(self, owner_id: UserId) -> Sequence[Coupon]:
        """The owner's coupons, oldest first."""
        ...

    async def switch_off(self, coupon_id: CouponId) -> bool:
        """Switch it off for good; False when it was off already (or is gone)."""
        ...

    async def redeem(self, redemption: Redemption) -> bool:
        """Take one use of the coupon for ``redemption.user_id``: the count goes up
        only while the coupon is on and has uses left, and the redemption is stored.
        False, and nothing written, when no use is left (of any number of units of
        work racing for the last use, exactly one gets True). Raises Conflict, at once
        or at commit, when that person redeemed it before."""
        ...

    async def redemption(self, coupon_id: CouponId, user_id: UserId) -> Redemption | None: ...

    async def redemptions_of(self, user_id: UserId) -> Sequence[Redemption]:
        """A person's redemptions, oldest first."""
        ...

    async def link(self, coupon_id: CouponId, user_id: UserId, intent_id: IntentId) -> None:
        """Note ``intent_id`` as the checkout the redemption discounts. Raises NotFound."""
        ...
