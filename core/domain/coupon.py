"""Coupons and access codes (issue 21): an owner's code that lowers a tier's price
(a percentage or a fixed amount off) or gives days of access without payment.

Rules kept here:

- A code is 4-32 of ``A-Z``, ``0-9`` and ``-``, read case-insensitively (kept in
  capitals) and unique across the deployment, so a deep link or a typed code names
  one coupon whoever owns it.
- A coupon applies to one channel of its owner, or to all of them (``channel_id``
  None), and optionally to one tier number only. Free days are for one channel: they
  are a grant, and a grant is of a channel.
- A percentage is 1-99: a discount always leaves something to pay (a free code is
  given in days). A discounted price is never below the floor (:data:`MIN_CHARGE`,
  one unit of the tier's currency, or one Star), nor above the tier's price; a tier
  that costs less than the floor is not discounted.
- A fixed amount is in the tier's currency and never lowers a Stars price.
- Uses are counted when a person redeems the code, each person once (the store's
  unique rule), up to ``max_uses``; an expired or switched-off coupon is redeemed by
  nobody and discounts no new checkout.
"""

from __future__ import annotations

import re
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal
from enum import StrEnum
from typing import NewType

import attrs

from core.domain.errors import DomainError, Why
from core.domain.ids import ChannelId, IntentId, UserId
from core.domain.money import Money
from core.domain.tier import MAX_DURATION_DAYS, MAX_PRICE_DECIMALS, MAX_TIERS, STARS

CouponId = NewType("CouponId", str)

CODE_PATTERN = re.compile(r"\A[A-Z0-9-]{4,32}\Z")
CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"
"""Generated codes avoid the look-alikes 0/O and 1/I."""
GENERATED_LENGTH = 10
MAX_PERCENT = 99
MAX_USES = 1_000_000
MIN_CHARGE = Decimal(1)
"""The least a discounted price may be, in the tier's currency (or Stars)."""


class CouponRefused(DomainError):
    """A coupon rule said no; its ``why`` (a ``Why.COUPON_*`` code) says which."""


def normalize_code(text: str) -> str:
    """The code as stored (capitals); CouponRefused(BAD_CODE) if it is not one."""
    code = text.strip().upper()
    if not CODE_PATTERN.match(code):
        raise CouponRefused(Why.COUPON_BAD_CODE)
    return code


def generated_code(random_id: str) -> str:
    """A readable code made from a fresh random id (the IdGenerator's)."""
    digits = int.from_bytes(random_id.encode(), "big")
    letters = []
    for _ in range(GENERATED_LENGTH):
        digits, index = divmod(digits, len(CODE_ALPHABET))
        letters.append(CODE_ALPHABET[index])
    return "".join(letters)


class DiscountKind(StrEnum):
    PERCENT = "percent"
    FIXED = "fixed"
    FREE_DAYS = "free_days"


@attrs.frozen
class Discount:
    """What a coupon gives: ``percent`` off (1-99), ``amount`` off (a Money), or
    ``days`` of access (1..MAX_DURATION_DAYS) without payment."""

    kind: DiscountKind
    percent: int | None = None
    amount: Money | None = None
    days: int | None = None

    def __attrs_post_init__(self) -> None:
        given = (self.percent, self.amount, self.days)
        wanted = {DiscountKind.PERCENT: 0, DiscountKind.FIXED: 1, DiscountKind.FREE_DAYS: 2}
        if [i for i, v in enumerate(given) if v is not None] != [wanted[self.kind]]:
            raise CouponRefused(Why.COUPON_BAD_DISCOUNT)
        if self.percent is not None and not 1 <= self.percent <= MAX_PERCENT:
            raise CouponRefused(Why.COUPON_BAD_DISCOUNT)
        if self.amount is not None and (
            not self.amount.is_positive
            or self.amount.decimal_places() > MAX_PRICE_DECIMALS
            or self.amount.currency == STARS
        ):
            raise CouponRefused(Why.COUPON_BAD_DISCOUNT)
        if self.days is not None and not 1 <= self.days <= MAX_DURATION_DAYS:
            raise CouponRefused(Why.COUPON_BAD_DISCOUNT)

    @classmethod
    def off_percent(cls, percent: int) -> Discount:
        return cls(DiscountKind.PERCENT, percent=percent)

    @classmethod
    def off_amount(cls, amount: Money) -> Discount:
        return cls(DiscountKind.FIXED, amount=amount)

    @classmethod
    def free_days(cls, days: int) -> Discount:
        return cls(DiscountKind.FREE_DAYS, days=days)

    @property
    def is_grant(self) -> bool:
        return self.kind is DiscountKind.FREE_DAYS

    def price_of(self, price: Money) -> Money:
        """``price`` after this discount: rounded to the currency's places (whole
        Stars), never below the floor, never above ``price``."""
        if self.kind is DiscountKind.FREE_DAYS:
            raise ValueError("free days are granted, not priced")
        places = Decimal(1) if price.currency == STARS else Decimal("0.01")
        if self.percent is not None:
            cut = price.amount * (100 - self.percent) / 100
        else:
            assert self.amount is not None
            if self.amount.currency != price.currency:
                return price  # an amount off in another currency (or Stars) lowers nothing
            cut = price.amount - self.amount.amount
        lowered = max(cut.quantize(places, rounding=ROUND_HALF_UP), MIN_CHARGE)
        if lowered == lowered.to_integral_value():
            lowered = lowered.quantize(Decimal(1))  # 7 USD off 10 USD reads 3 USD, not 3.00
        return Money(min(lowered, price.amount), price.currency)


@attrs.define
class Coupon:
    id: CouponId
    code: str = attrs.field(converter=normalize_code)
    owner_id: UserId
    discount: Discount
    created_at: datetime
    channel_id: ChannelId | None = None
    """None: every channel of the owner."""
    max_uses: int | None = None
    """None: as many people as redeem it (each once)."""
    expires_at: datetime | None = None
    used: int = 0
    active: bool = True
    tier: int | None = None
    """Only this tier number (of each channel it covers); None: every tier."""

    def __attrs_post_init__(self) -> None:
        if self.discount.is_grant and self.channel_id is None:
            raise CouponRefused(Why.COUPON_FREE_DAYS_NEED_A_CHANNEL)
        if self.tier is not None and not 1 <= self.tier <= MAX_TIERS:
            raise CouponRefused(Why.COUPON_BAD_DISCOUNT)
        if self.max_uses is not None and not 1 <= self.max_uses <= MAX_USES:
            raise CouponRefused(Why.COUPON_BAD_DISCOUNT)
        if self.expires_at is not None and self.expires_at <= self.created_at:
            raise CouponRefused(Why.COUPON_EXPIRED)

    @property
    def uses_left(self) -> int | None:
        return None if self.max_uses is None else max(self.max_uses - self.used, 0)

    def covers(self, channel_id: ChannelId, owner_id: UserId, tier: int | None = None) -> bool:
        """Whether it applies to that channel (its own, or any of its owner's) and, if
        given, that tier."""
        if owner_id != self.owner_id:
            return False
        if tier is not None and self.tier is not None and tier != self.tier:
            return False
        return self.channel_id is None or self.channel_id == channel_id

    def is_expired_at(self, now: datetime) -> bool:
        return self.expires_at is not None and now >= self.expires_at

    def check_redeemable(self, now: datetime) -> None:
        """CouponRefused unless someone may redeem it now (uses are the store's to count)."""
        if not self.active:
            raise CouponRefused(Why.COUPON_UNKNOWN)
        if self.is_expired_at(now):
            raise CouponRefused(Why.COUPON_EXPIRED)
        if self.uses_left == 0:
            raise CouponRefused(Why.COUPON_USED_UP)

    def discounts_at(self, now: datetime) -> bool:
        """Whether it still lowers a new checkout (on, not expired, not free days)."""
        return self.active and not self.is_expired_at(now) and not self.discount.is_grant


@attrs.frozen
class Redemption:
    """One person's use of a coupon (one per person and coupon). ``intent_id`` is the
    last checkout it discounted: once that one is paid, the discount is spent."""

    coupon_id: CouponId
    user_id: UserId
    redeemed_at: datetime
    intent_id: IntentId | None = None
