"""How the catalog writes dates, periods, amounts and tiers in the current language
(Babel's CLDR data: decimal signs, month names, plural rules), and the examples it
shows of what to type."""

from __future__ import annotations

import math
from datetime import UTC, datetime
from decimal import Decimal

from babel.dates import format_datetime
from babel.numbers import format_decimal

from adapters.catalog.language import _, locale, n_
from core.domain.money import Money
from core.domain.tier import Tier

TIERS_EXAMPLE = "1=10USD/30d 2=25USD/90d"
STARS_TIER_EXAMPLE = "1=10USD+500XTR/30d"
"""A tier sold for crypto and for Telegram Stars."""
STARS_RENEWING_EXAMPLE = "1=10USD+500XTR/30d+auto"
"""A tier sold for Stars as a subscription Telegram renews every 30 days."""
BOUNDS_EXAMPLE = "1USD-500USD"


def when(at: datetime) -> str:
    # TRANSLATORS: a CLDR date pattern (letters are fields, quoted text is kept):
    # how a subscription's end reads, in UTC.
    pattern = _("yyyy-MM-dd HH:mm 'UTC'")
    return format_datetime(at, pattern, tzinfo=UTC, locale=locale())


def days(n: int) -> str:
    return n_("%(n)s day", "%(n)s days", n)


def seconds(value: float) -> str:
    whole = max(1, math.ceil(value))
    return n_("%(n)s second", "%(n)s seconds", whole)


def tier_label(tier: Tier) -> str:
    if tier.stars_price is not None and tier.stars_renews:
        return _(
            "%(period)s — %(price)s or %(stars)s, renewing every 30 days",
            period=days(tier.duration_days),
            price=money(tier.price),
            stars=money(tier.stars_price),
        )
    if tier.stars_price is not None:
        return _(
            "%(period)s — %(price)s or %(stars)s",
            period=days(tier.duration_days),
            price=money(tier.price),
            stars=money(tier.stars_price),
        )
    return _("%(period)s — %(price)s", period=days(tier.duration_days), price=money(tier.price))


def format_amount(amount: Decimal) -> str:
    """``5``, ``12.5``, ``500``: no exponent, no trailing zeros (what buttons carry,
    the same in every language)."""
    return format(amount.normalize(), "f")


def number(amount: Decimal) -> str:
    """``12.50`` as written (its own decimal places kept), with the language's decimal
    sign (``12,50``); no grouping, so it reads back as typed."""
    places = max(0, -int(amount.as_tuple().exponent))
    pattern = "0." + "0" * places if places else "0"
    return format_decimal(amount, format=pattern, locale=locale(), decimal_quantization=False)


def money(value: Money) -> str:
    """An amount and its currency code, as prices were set (``12.50 USD``)."""
    return f"{number(value.amount)} {value.currency}"


def money_text(value: Money) -> str:
    """An amount as people type it back (``12.5 USD``: trailing zeros dropped)."""
    return f"{number(Decimal(format_amount(value.amount)))} {value.currency}"
