"""Coupons and their redemptions in SQL. The last use is taken by a conditional
update of the coupon's count (of two racing redeemers, the second waits for the
first's row lock and then finds no use left); a person's second redemption breaks
the redemptions' primary key."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Row, or_, select, update

from adapters.outbound.sqla.tables import coupon_redemptions as r
from adapters.outbound.sqla.tables import coupons as c
from adapters.outbound.sqla.transaction import SqlTransaction
from core.domain.coupon import Coupon, CouponId, Discount, DiscountKind, Redemption
from core.domain.ids import ChannelId, IntentId, UserId
from core.domain.money import Money
from core.ports.errors import Conflict, NotFound


def coupon_to_row(coupon: Coupon) -> dict[str, Any]:
    discount = coupon.discount
    return {
        "id": coupon.id,
        "code": coupon.code,
        "owner_id": coupon.owner_id,
        "channel_id": coupon.channel_id,
        "kind": discount.kind.value,
        "percent": discount.percent,
        "amount": None if discount.amount is None else discount.amount.amount,
        "currency": None if discount.amount is None else discount.amount.currency,
        "days": discount.days,
        "max_uses": coupon.max_uses,
        "used": coupon.used,
        "expires_at": coupon.expires_at,
        "active": coupon.active,
        "created_at": coupon.created_at,
        "tier": coupon.tier,
    }


def coupon_from_row(row: Row[Any]) -> Coupon:
    amount = None if row.amount is None else Money(row.amount, row.currency)
    return Coupon(
        id=CouponId(row.id),
        code=row.code,
        owner_id=UserId(row.owner_id),
        discount=Discount(DiscountKind(row.kind), row.percent, amount, row.days),
        created_at=row.created_at,
        channel_id=None if row.channel_id is None else ChannelId(row.channel_id),
        max_uses=row.max_uses,
        expires_at=row.expires_at,
        used=row.used,
        active=row.active,
        tier=row.tier,
    )


def redemption_from_row(row: Row[Any]) -> Redemption:
    return Redemption(
        CouponId(row.coupon_id),
        UserId(row.user_id),
        row.redeemed_at,
        None if row.intent_id is None else IntentId(row.intent_id),
    )


class SqlCouponRepository:
    """Implements CouponRepository."""

    def __init__(self, tx: SqlTransaction) -> None:
        self._tx = tx

    async def add(self, coupon: Coupon) -> bool:
        return await self._tx.insert_once(c, coupon_to_row(coupon), None, "add coupon")

    async def by_code(self, code: str) -> Coupon | None:
        query = select(c).where(c.c.code == code.upper())
        row = (await self._tx.execute(query, "read coupon", reads_only=True)).first()
        return None if row is None else coupon_from_row(row)

    async def get(self, coupon_id: CouponId) -> Coupon | None:
        query = select(c).where(c.c.id == coupon_id)
        row = (await self._tx.execute(query, "read coupon", reads_only=True)).first()
        return None if row is None else coupon_from_row(row)

    async def of_owner(self, owner_id: UserId) -> Sequence[Coupon]:
        query = select(c).where(c.c.owner_id == owner_id).order_by(c.c.created_at, c.c.id)
        rows = await self._tx.execute(query, "list coupons", reads_only=True)
        return [coupon_from_row(row) for row in rows]

    async def switch_off(self, coupon_id: CouponId) -> bool:
        result = await self._tx.execute(
            update(c).where(c.c.id == coupon_id, c.c.active.is_(True)).values(active=False),
            "switch off coupon",
        )
        return result.rowcount == 1

    async def redeem(self, redemption: Redemption) -> bool:
        taken = await self._tx.execute(
            update(c)
            .where(
                c.c.id == redemption.coupon_id,
                c.c.active.is_(True),
                or_(c.c.max_uses.is_(None), c.c.used < c.c.max_uses),
            )
            .values(used=c.c.used + 1),
            "take a coupon use",
        )
        if taken.rowcount != 1:
            return False
        row = {
            "coupon_id": redemption.coupon_id,
            "user_id": redemption.user_id,
            "redeemed_at": redemption.redeemed_at,
            "intent_id": redemption.intent_id,
        }
        if not await self._tx.insert_once(r, row, ("coupon_id", "user_id"), "redeem coupon"):
            raise Conflict(f"user {redemption.user_id} redeemed this coupon before")
        return True

    async def redemption(self, coupon_id: CouponId, user_id: UserId) -> Redemption | None:
        query = select(r).where(r.c.coupon_id == coupon_id, r.c.user_id == user_id)
        row = (await self._tx.execute(query, "read redemption", reads_only=True)).first()
        return None if row is None else redemption_from_row(row)

    async def redemptions_of(self, user_id: UserId) -> Sequence[Redemption]:
        query = select(r).where(r.c.user_id == user_id).order_by(r.c.redeemed_at, r.c.coupon_id)
        rows = await self._tx.execute(query, "read redemptions", reads_only=True)
        return [redemption_from_row(row) for row in rows]

    async def link(self, coupon_id: CouponId, user_id: UserId, intent_id: IntentId) -> None:
        result = await self._tx.execute(
            update(r)
            .where(r.c.coupon_id == coupon_id, r.c.user_id == user_id)
            .values(intent_id=intent_id),
            "link redemption",
        )
        if result.rowcount == 0:
            raise NotFound(f"no redemption of coupon {coupon_id} by {user_id}")
