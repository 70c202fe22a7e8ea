"""Subscription tiers: what a channel sells."""

from __future__ import annotations

from datetime import timedelta

import attrs

from core.domain.errors import InvalidTier
from core.domain.money import Money

MAX_TIERS = 3
MAX_DURATION_DAYS = 3660
MAX_PRICE_DECIMALS = 2


def _check_number(_: object, __: attrs.Attribute[int], value: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= MAX_TIERS:
        raise InvalidTier(f"tier number must be 1..{MAX_TIERS}, got {value!r}")


def _check_price(_: object, __: attrs.Attribute[Money], value: Money) -> None:
    if not value.is_positive:
        raise InvalidTier("a tier's price must be above zero")
    if value.decimal_places() > MAX_PRICE_DECIMALS:
        raise InvalidTier(f"a tier's price has at most {MAX_PRICE_DECIMALS} decimals")


def _check_duration(_: object, __: attrs.Attribute[int], value: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidTier("a tier's duration is a whole number of days")
    if not 1 <= value <= MAX_DURATION_DAYS:
        raise InvalidTier(f"a tier lasts 1..{MAX_DURATION_DAYS} days, got {value}")


@attrs.frozen
class Tier:
    """One of up to three offers of a channel: a price for a number of days."""

    number: int = attrs.field(validator=_check_number)
    price: Money = attrs.field(validator=_check_price)
    duration_days: int = attrs.field(validator=_check_duration)

    @property
    def period(self) -> timedelta:
        return timedelta(days=self.duration_days)


def validate_tiers(tiers: tuple[Tier, ...]) -> tuple[Tier, ...]:
    """At most three tiers, numbers unique, one currency; returned sorted by number."""
    if len(tiers) > MAX_TIERS:
        raise InvalidTier(f"a channel has at most {MAX_TIERS} tiers")
    numbers = [t.number for t in tiers]
    if len(set(numbers)) != len(numbers):
        raise InvalidTier("tier numbers must be unique")
    currencies = {t.price.currency for t in tiers}
    if len(currencies) > 1:
        raise InvalidTier("all tiers of a channel are priced in one currency")
    return tuple(sorted(tiers, key=lambda t: t.number))
