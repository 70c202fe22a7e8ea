"""Subscription tiers: what a channel sells."""

from __future__ import annotations

from datetime import timedelta
from enum import StrEnum

import attrs

from core.domain.errors import InvalidTier, Why
from core.domain.money import Money

MAX_TIERS = 3
MAX_DURATION_DAYS = 3660
MAX_PRICE_DECIMALS = 2
STARS = "XTR"
"""Telegram Stars' currency code on the Bot API."""
MAX_STARS = 10_000
"""The most Stars a tier may cost (Telegram's cap on a Stars subscription price)."""
RENEWAL_DAYS = 30
"""A Stars subscription renews every 30 days: the only period Telegram offers."""


class Rail(StrEnum):
    """A way to pay for a tier: crypto through the payment provider, or Telegram Stars."""

    CRYPTO = "crypto"
    STARS = "stars"


def _check_number(_: object, __: attrs.Attribute[int], value: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= MAX_TIERS:
        raise InvalidTier(Why.TIER_NUMBER, most=MAX_TIERS, given=value)


def _check_price(_: object, __: attrs.Attribute[Money], value: Money) -> None:
    if not value.is_positive:
        raise InvalidTier(Why.TIER_PRICE_ZERO)
    if value.decimal_places() > MAX_PRICE_DECIMALS:
        raise InvalidTier(Why.TIER_PRICE_DECIMALS, most=MAX_PRICE_DECIMALS)


def _check_stars(_: object, __: attrs.Attribute[Money | None], value: Money | None) -> None:
    if value is None:
        return
    if value.currency != STARS:
        raise InvalidTier(Why.STARS_CURRENCY, currency=value.currency)
    if value.decimal_places() > 0 or not 1 <= value.amount <= MAX_STARS:
        raise InvalidTier(Why.STARS_WHOLE, most=MAX_STARS)


def _check_duration(_: object, __: attrs.Attribute[int], value: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidTier(Why.TIER_DAYS_WHOLE)
    if not 1 <= value <= MAX_DURATION_DAYS:
        raise InvalidTier(Why.TIER_DAYS_RANGE, most=MAX_DURATION_DAYS, given=value)


@attrs.frozen
class Tier:
    """One of up to three offers of a channel: a price for a number of days, and
    optionally a price in Telegram Stars beside it (a second way to pay)."""

    number: int = attrs.field(validator=_check_number)
    price: Money = attrs.field(validator=_check_price)
    duration_days: int = attrs.field(validator=_check_duration)
    stars_price: Money | None = attrs.field(default=None, validator=_check_stars)
    stars_renews: bool = False
    """Sold for Stars as a Telegram Stars subscription: Telegram charges the payer
    again every 30 days until they or the bot cancel, and each renewal extends it."""

    def __attrs_post_init__(self) -> None:
        if self.price.currency == STARS:
            raise InvalidTier(Why.TIER_MAIN_PRICE_STARS)
        if self.stars_renews and self.stars_price is None:
            raise InvalidTier(Why.RENEWS_WITHOUT_STARS)
        if self.stars_renews and self.duration_days != RENEWAL_DAYS:
            raise InvalidTier(Why.RENEWAL_DAYS, days=RENEWAL_DAYS)

    @property
    def period(self) -> timedelta:
        return timedelta(days=self.duration_days)

    @property
    def rails(self) -> tuple[Rail, ...]:
        """The ways this tier can be paid for, crypto first."""
        return (Rail.CRYPTO, Rail.STARS) if self.stars_price is not None else (Rail.CRYPTO,)

    def price_on(self, rail: Rail) -> Money:
        """What the tier costs on ``rail``; InvalidTier if it is not sold that way."""
        if rail is Rail.CRYPTO:
            return self.price
        if self.stars_price is None:
            raise InvalidTier(Why.TIER_NOT_FOR_STARS, number=self.number)
        return self.stars_price


def validate_tiers(tiers: tuple[Tier, ...]) -> tuple[Tier, ...]:
    """At most three tiers, numbers unique, one currency; returned sorted by number."""
    if len(tiers) > MAX_TIERS:
        raise InvalidTier(Why.TIERS_TOO_MANY, most=MAX_TIERS)
    numbers = [t.number for t in tiers]
    if len(set(numbers)) != len(numbers):
        raise InvalidTier(Why.TIER_NUMBERS_TWICE)
    currencies = {t.price.currency for t in tiers}
    if len(currencies) > 1:
        raise InvalidTier(Why.TIERS_CURRENCIES)
    return tuple(sorted(tiers, key=lambda t: t.number))
