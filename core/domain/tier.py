"""Subscription tiers: what a channel sells."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
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


LIFETIME_END = datetime(9999, 1, 1, tzinfo=UTC)
"""The end a lifetime subscription carries: never reached, so never reminded of or
removed, and still an ordinary date for every store and sort."""


def link_end(ends: datetime, now: datetime) -> datetime:
    """How long an access link for a term ending at ``ends`` lasts: to the end, but
    no more than the longest tier from now (a lifetime's link is renewed on asking)."""
    return min(ends, now + timedelta(days=MAX_DURATION_DAYS))


class TierKind(StrEnum):
    """How long a tier lasts: a number of days from the purchase (or from the end of
    the term it extends), for ever, or until one date that is the same for everyone
    (a season)."""

    DAYS = "days"
    LIFETIME = "lifetime"
    UNTIL = "until"


def season_end(ends_on: date) -> datetime:
    """A season ``until 2027-03-31`` lasts to the end of that day in UTC (the next
    day's midnight), whatever the day it is bought."""
    return datetime.combine(ends_on + timedelta(days=1), time(), UTC)


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
    if not 0 <= value <= MAX_DURATION_DAYS:
        raise InvalidTier(Why.TIER_DAYS_RANGE, most=MAX_DURATION_DAYS, given=value)


@attrs.frozen
class Tier:
    """One of up to three offers of a channel: a price for a number of days (or for
    ever, or until a date: ``span``), and optionally a price in Telegram Stars beside
    it (a second way to pay). ``duration_days`` is 0 for a lifetime or a season."""

    number: int = attrs.field(validator=_check_number)
    price: Money = attrs.field(validator=_check_price)
    duration_days: int = attrs.field(validator=_check_duration)
    stars_price: Money | None = attrs.field(default=None, validator=_check_stars)
    span: TierKind = TierKind.DAYS
    """How long it lasts (not named ``kind``: the notice codec keeps that name)."""
    ends_on: date | None = None
    """The last day of a season (``span`` UNTIL), in UTC."""
    stars_renews: bool = False
    """Sold for Stars as a Telegram Stars subscription: Telegram charges the payer
    again every 30 days until they or the bot cancel, and each renewal extends it."""

    def __attrs_post_init__(self) -> None:
        if self.price.currency == STARS:
            raise InvalidTier(Why.TIER_MAIN_PRICE_STARS)
        if self.span is TierKind.DAYS and self.duration_days < 1:
            raise InvalidTier(Why.TIER_DAYS_RANGE, most=MAX_DURATION_DAYS, given=self.duration_days)
        if self.span is not TierKind.DAYS and self.duration_days != 0:
            raise InvalidTier(Why.TIER_SPAN_DAYS)
        if (self.span is TierKind.UNTIL) != (self.ends_on is not None):
            raise InvalidTier(Why.SEASON_END_DATE)
        if self.ends_on is not None and self.ends_on >= LIFETIME_END.date():
            raise InvalidTier(Why.SEASON_TOO_LATE)
        if self.stars_renews and self.stars_price is None:
            raise InvalidTier(Why.RENEWS_WITHOUT_STARS)
        if self.stars_renews and self.duration_days != RENEWAL_DAYS:
            raise InvalidTier(Why.RENEWAL_DAYS, days=RENEWAL_DAYS)

    @classmethod
    def lifetime(cls, number: int, price: Money, stars_price: Money | None = None) -> Tier:
        return cls(number, price, 0, stars_price, TierKind.LIFETIME)

    @classmethod
    def season(
        cls, number: int, price: Money, ends_on: date, stars_price: Money | None = None
    ) -> Tier:
        return cls(number, price, 0, stars_price, TierKind.UNTIL, ends_on)

    @property
    def period(self) -> timedelta:
        """The length a DAYS tier adds (zero for a lifetime or a season: see ``ends_at``)."""
        return timedelta(days=self.duration_days)

    @property
    def ends_at(self) -> datetime | None:
        """The fixed end everyone who buys it gets (lifetime: never); None for DAYS."""
        if self.span is TierKind.LIFETIME:
            return LIFETIME_END
        if self.ends_on is not None:
            return season_end(self.ends_on)
        return None

    def on_sale_at(self, now: datetime) -> bool:
        """A season is sold until its end; the others always."""
        ends = self.ends_at
        return self.span is not TierKind.UNTIL or ends is None or now < ends

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
