"""How the catalog writes dates, periods, amounts and tiers in the current language
(Babel's CLDR data: decimal signs, month names, plural rules), and the examples it
shows of what to type."""

from __future__ import annotations

import math
from datetime import UTC, date, datetime
from decimal import Decimal

from babel.dates import format_date, format_datetime
from babel.numbers import format_decimal

from adapters.catalog.language import _, locale, n_
from core.domain.money import Money
from core.domain.tier import LIFETIME_END, Tier, TierKind
from core.domain.trial import TrialOffer

TIERS_EXAMPLE = "1=10USD/30d 2=25USD/90d"
PLANS_EXAMPLE = "1=10USD/30d 2=20USD/until 2027-03-31 3=99USD/life"
"""A tier of days, a season and a lifetime tier."""
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


def day(on: date) -> str:
    # TRANSLATORS: a CLDR date pattern: how a season's last day reads.
    return format_date(on, _("yyyy-MM-dd"), locale=locale())


def tier_term(tier: Tier) -> str:
    """How long a tier lasts: ``30 days``, ``lifetime``, ``until 2027-03-31``."""
    if tier.span is TierKind.LIFETIME:
        return _("lifetime")
    if tier.ends_on is not None:
        return _("until %(date)s", date=day(tier.ends_on))
    return days(tier.duration_days)


def fixed_term(ends_at: datetime) -> str:
    """What a lifetime or season purchase bought, from its fixed end."""
    if ends_at >= LIFETIME_END:
        return _("lifetime")
    return _("until %(date)s", date=when(ends_at))


def is_forever(ends_at: datetime) -> bool:
    return ends_at >= LIFETIME_END


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
            period=tier_term(tier),
            price=money(tier.price),
            stars=money(tier.stars_price),
        )
    return _("%(period)s — %(price)s", period=tier_term(tier), price=money(tier.price))


def trial_label(days_: int, price: Money | None) -> str:
    """The Trial button and line: ``Free trial: 7 days``, ``Trial: 3 days — 1 USD``."""
    if price is None:
        return _("Free trial: %(period)s", period=days(days_))
    return _("Trial: %(period)s — %(price)s", period=days(days_), price=money(price))


def trial_setting(trial: TrialOffer | None) -> str:
    """The trial as the owner sees it set."""
    if trial is None:
        return _("no trial")
    return trial_label(trial.days, trial.price)


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
