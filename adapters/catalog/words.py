"""How the catalog writes dates, periods, amounts and tiers, and the examples it
shows of what to type."""

from __future__ import annotations

import math
from datetime import datetime
from decimal import Decimal

from core.domain.money import Money
from core.domain.tier import Tier

TIERS_EXAMPLE = "1=10USD/30d 2=25USD/90d"
BOUNDS_EXAMPLE = "1USD-500USD"


def when(at: datetime) -> str:
    return at.strftime("%Y-%m-%d %H:%M UTC")


def days(n: int) -> str:
    return "1 day" if n == 1 else f"{n} days"


def seconds(value: float) -> str:
    whole = max(1, math.ceil(value))
    return "1 second" if whole == 1 else f"{whole} seconds"


def tier_label(tier: Tier) -> str:
    return f"{days(tier.duration_days)} — {tier.price}"


def format_amount(amount: Decimal) -> str:
    """``5``, ``12.5``, ``500``: no exponent, no trailing zeros."""
    return format(amount.normalize(), "f")


def money_text(money: Money) -> str:
    return f"{format_amount(money.amount)} {money.currency}"
