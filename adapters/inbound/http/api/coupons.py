"""The coupons' operation (issue 21): the caller's own coupons and access codes with
their uses, as the dashboard's Coupons section lists them (read only: codes are made
and switched off in the bot). Nothing names an owner, so there is nobody else's to
ask for; an operator sees their own codes too, not every owner's."""

from __future__ import annotations

from typing import Any

import attrs

from adapters.inbound.http.api.operations import ApiCall, Operation
from adapters.inbound.http.api.schema import JsonSchema
from core.domain.coupon import MAX_PERCENT, MAX_USES, Coupon, DiscountKind
from core.domain.tier import MAX_DURATION_DAYS, MAX_TIERS
from core.ports.api_tokens import ApiScope
from core.services.coupons import OwnerCoupons

__all__ = ["CouponOperations"]

_COUPON: JsonSchema = {
    "type": "object",
    "required": [
        "id",
        "code",
        "channel_id",
        "tier",
        "discount",
        "max_uses",
        "used",
        "uses_left",
        "expires_at",
        "active",
        "created_at",
    ],
    "properties": {
        "id": {"type": "string"},
        "code": {"type": "string", "pattern": "^[A-Z0-9-]{4,32}$"},
        "channel_id": {
            "type": ["string", "null"],
            "description": "null: every channel of yours.",
        },
        "tier": {
            "type": ["integer", "null"],
            "minimum": 1,
            "maximum": MAX_TIERS,
            "description": "Only this tier number; null: every tier.",
        },
        "discount": {
            "type": "object",
            "required": ["kind", "percent", "amount", "days"],
            "description": "The one of percent, amount or days its kind names is set.",
            "properties": {
                "kind": {"type": "string", "enum": [kind.value for kind in DiscountKind]},
                "percent": {"type": ["integer", "null"], "minimum": 1, "maximum": MAX_PERCENT},
                "amount": {
                    "type": ["object", "null"],
                    "required": ["amount", "currency"],
                    "properties": {
                        "amount": {"type": "string", "description": "A decimal number, exact."},
                        "currency": {"type": "string"},
                    },
                },
                "days": {"type": ["integer", "null"], "minimum": 1, "maximum": MAX_DURATION_DAYS},
            },
        },
        "max_uses": {"type": ["integer", "null"], "minimum": 1, "maximum": MAX_USES},
        "used": {"type": "integer", "minimum": 0},
        "uses_left": {"type": ["integer", "null"], "minimum": 0},
        "expires_at": {"type": ["string", "null"], "format": "date-time"},
        "active": {"type": "boolean", "description": "False once switched off."},
        "created_at": {"type": "string", "format": "date-time"},
    },
}
_COUPONS: JsonSchema = {
    "type": "object",
    "required": ["coupons"],
    "properties": {"coupons": {"type": "array", "items": _COUPON}},
}


def coupon_json(coupon: Coupon) -> dict[str, Any]:
    d = coupon.discount
    return {
        "id": coupon.id,
        "code": coupon.code,
        "channel_id": coupon.channel_id,
        "tier": coupon.tier,
        "discount": {
            "kind": d.kind.value,
            "percent": d.percent,
            "amount": None
            if d.amount is None
            else {"amount": str(d.amount.amount), "currency": d.amount.currency},
            "days": d.days,
        },
        "max_uses": coupon.max_uses,
        "used": coupon.used,
        "uses_left": coupon.uses_left,
        "expires_at": None if coupon.expires_at is None else coupon.expires_at.isoformat(),
        "active": coupon.active,
        "created_at": coupon.created_at.isoformat(),
    }


@attrs.define(eq=False)
class CouponOperations:
    _coupons: OwnerCoupons

    def operations(self) -> list[Operation]:
        return [
            Operation(
                "GET",
                "/coupons",
                "listCoupons",
                "Your coupons and access codes, with their uses",
                ApiScope.READ,
                self.coupons,
                _COUPONS,
            )
        ]

    async def coupons(self, call: ApiCall) -> object:
        mine = await self._coupons.list(call.viewer.user_id)
        return {"coupons": [coupon_json(coupon) for coupon in mine]}
