"""Donations from subscribers inside a closed channel."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

import attrs

from core.domain.channel import DonationBounds
from core.domain.errors import InvalidAmount, Why
from core.domain.ids import ChannelId, DonationId, IntentId, UserId
from core.domain.money import Money

DONATION_DECIMALS = 2


def validate_donation(amount: Decimal, bounds: DonationBounds) -> Money:
    """Within the channel's bounds, positive, at most two decimals."""
    if not isinstance(amount, Decimal) or not amount.is_finite():
        raise InvalidAmount(Why.DONATION_FORMAT)
    money = Money(amount, bounds.minimum.currency)
    if money.decimal_places() > DONATION_DECIMALS:
        raise InvalidAmount(Why.DONATION_DECIMALS)
    if money < bounds.minimum:
        raise InvalidAmount(Why.DONATION_BELOW, least=bounds.minimum)
    if money > bounds.maximum:
        raise InvalidAmount(Why.DONATION_ABOVE, most=bounds.maximum)
    return money


@attrs.frozen
class Donation:
    """A donation that was paid (recorded once, when its intent is fulfilled)."""

    id: DonationId
    intent_id: IntentId
    user_id: UserId
    channel_id: ChannelId
    amount: Money
    received_at: datetime
