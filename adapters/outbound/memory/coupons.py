"""Coupons and their redemptions in memory: a code once across the store, a
redemption once per person and coupon, and the last use taken by exactly one."""

from __future__ import annotations

from collections.abc import Hashable, Sequence

import attrs

from adapters.outbound.memory.table import Table, TableView
from core.domain.coupon import Coupon, CouponId, Redemption
from core.domain.ids import IntentId, UserId
from core.ports.errors import NotFound

RedemptionKey = tuple[CouponId, UserId]


def _code(coupon: Coupon) -> tuple[Hashable, ...]:
    return (coupon.code,)


def coupons_table() -> Table[CouponId, Coupon]:
    return Table("coupons", lambda c: c.id, {"code": _code})


def redemptions_table() -> Table[RedemptionKey, Redemption]:
    return Table("coupon_redemptions", lambda r: (r.coupon_id, r.user_id))


def _has_use_left(coupon: Coupon) -> bool:
    return coupon.active and (coupon.max_uses is None or coupon.used < coupon.max_uses)


class InMemoryCouponRepository:
    """Implements CouponRepository."""

    def __init__(
        self,
        coupons: TableView[CouponId, Coupon],
        redemptions: TableView[RedemptionKey, Redemption],
    ) -> None:
        self._coupons = coupons
        self._redemptions = redemptions

    async def add(self, coupon: Coupon) -> bool:
        return await self._coupons.insert_unless_taken(coupon, "code")

    async def by_code(self, code: str) -> Coupon | None:
        key = self._coupons.lookup("code", code.upper())
        return None if key is None else self._coupons.get(key)

    async def get(self, coupon_id: CouponId) -> Coupon | None:
        return self._coupons.get(coupon_id)

    async def of_owner(self, owner_id: UserId) -> Sequence[Coupon]:
        return self._coupons.select(lambda c: c.owner_id == owner_id)

    async def switch_off(self, coupon_id: CouponId) -> bool:
        coupon = self._coupons.get(coupon_id)
        if coupon is None:
            return False
        coupon.active = False
        return await self._coupons.compare_and_set(coupon, "coupon", lambda c: c.active)

    async def redeem(self, redemption: Redemption) -> bool:
        # Locked, then checked: a rival for the last use waits here and then sees it gone.
        await self._coupons.lock(redemption.coupon_id)
        coupon = self._coupons.get(redemption.coupon_id)
        if coupon is None or not _has_use_left(coupon):
            return False
        coupon.used += 1
        self._coupons.replace(coupon, "coupon")
        await self._redemptions.insert(redemption)
        return True

    async def redemption(self, coupon_id: CouponId, user_id: UserId) -> Redemption | None:
        return self._redemptions.get((coupon_id, user_id))

    async def redemptions_of(self, user_id: UserId) -> Sequence[Redemption]:
        return self._redemptions.select(lambda r: r.user_id == user_id)

    async def link(self, coupon_id: CouponId, user_id: UserId, intent_id: IntentId) -> None:
        found = self._redemptions.get((coupon_id, user_id))
        if found is None:
            raise NotFound(f"no redemption of coupon {coupon_id} by {user_id}")
        await self._redemptions.update(attrs.evolve(found, intent_id=intent_id), "redemption")
