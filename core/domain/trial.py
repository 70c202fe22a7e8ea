"""Trials: a channel's first taste, N days once per person per channel, ever.

A trial is free (it is granted at once) or paid (it goes through checkout at its
price). Who has had one is remembered for good (the store's trial records survive a
member leaving and the subscription expiring), and nobody who ever paid for the
channel gets one.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

import attrs

from core.domain.errors import DomainError, InvalidChannel, Why
from core.domain.ids import ChannelId, UserId
from core.domain.money import Money
from core.domain.tier import MAX_PRICE_DECIMALS, STARS

TRIAL_TIER = 9
"""The tier number a trial's subscription, intent and offer token carry (tiers are 1..3,
a Donate token 0)."""
MAX_TRIAL_DAYS = 90


class TrialRefusal(StrEnum):
    NOT_OFFERED = "not_offered"
    ALREADY_TAKEN = "already_taken"
    ALREADY_PAID = "already_paid"


_WHY = {
    TrialRefusal.NOT_OFFERED: Why.TRIAL_NOT_OFFERED,
    TrialRefusal.ALREADY_TAKEN: Why.TRIAL_TAKEN,
    TrialRefusal.ALREADY_PAID: Why.TRIAL_PAID,
}


class TrialUnavailable(DomainError):
    """This person cannot have this channel's trial (``reason`` says why)."""

    def __init__(self, reason: TrialRefusal) -> None:
        super().__init__(_WHY[reason])
        self.reason = reason


@attrs.frozen
class TrialOffer:
    """A channel's trial: ``days`` of access, free (``price`` None) or at ``price``."""

    days: int
    price: Money | None = None

    def __attrs_post_init__(self) -> None:
        if isinstance(self.days, bool) or not 1 <= self.days <= MAX_TRIAL_DAYS:
            raise InvalidChannel(Why.TRIAL_DAYS, most=MAX_TRIAL_DAYS)
        price = self.price
        if price is None:
            return
        if not price.is_positive or price.currency == STARS:
            raise InvalidChannel(Why.TRIAL_PRICE)
        if price.decimal_places() > MAX_PRICE_DECIMALS:
            raise InvalidChannel(Why.TRIAL_PRICE_DECIMALS, most=MAX_PRICE_DECIMALS)

    @property
    def is_free(self) -> bool:
        return self.price is None


def trial_refusal(offered: bool, taken: bool, paid: bool) -> TrialRefusal | None:
    """Why a person may not start a trial now, None if they may: the channel offers
    one, they never had one there and never paid for anything there."""
    if not offered:
        return TrialRefusal.NOT_OFFERED
    if paid:
        return TrialRefusal.ALREADY_PAID
    if taken:
        return TrialRefusal.ALREADY_TAKEN
    return None


@attrs.frozen
class TrialTaken:
    """The durable record that ``user_id`` took ``channel_id``'s free trial."""

    channel_id: ChannelId
    user_id: UserId
    taken_at: datetime
