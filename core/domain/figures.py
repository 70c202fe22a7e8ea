"""The daily figures of a channel: what its payments, donations, refunds and endings
added up to on one day (UTC), per currency. They are kept by the write path, in the
same unit of work as what they count, so a figure is counted exactly once however
often a notification arrives; the dashboard reads them instead of the raw rows."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, date, datetime
from decimal import Decimal
from enum import StrEnum

import attrs

from core.domain.ids import ChannelId
from core.domain.money import Money


class FigureKind(StrEnum):
    NEW = "new"
    """A paid subscription that starts a term: the first one, or a return after the
    previous term ended."""
    RENEWED = "renewed"
    """A paid extension of a subscription that was still active."""
    DONATION = "donation"
    REFUND = "refund"
    """A fulfilled payment (subscription or donation) that was refunded."""
    CHURNED = "churned"
    """A subscription that ended without renewal: expired, or refunded away."""


ALL_CHANNELS = ChannelId("")
"""The channel of the rollup's totals over every channel (no channel has this id):
kept beside each channel's rows, so the operator's figures are a read of one row per
day, currency and kind, however many channels there are."""

NO_CURRENCY = ""
"""The currency of a figure that counts, and carries no amount (churned)."""

FigureKey = tuple[ChannelId, date, str, FigureKind]


@attrs.frozen
class DailyFigure:
    channel_id: ChannelId
    day: date
    """The UTC day it happened."""
    currency: str
    kind: FigureKind
    amount: Decimal
    count: int

    @property
    def key(self) -> FigureKey:
        return (self.channel_id, self.day, self.currency, self.kind)

    @classmethod
    def money(
        cls, channel_id: ChannelId, at: datetime, kind: FigureKind, paid: Money
    ) -> DailyFigure:
        """One payment, donation or refund of ``paid`` at ``at``."""
        return cls(channel_id, at.astimezone(UTC).date(), paid.currency, kind, paid.amount, 1)

    @classmethod
    def churn(cls, channel_id: ChannelId, at: datetime) -> DailyFigure:
        return cls(
            channel_id, at.astimezone(UTC).date(), NO_CURRENCY, FigureKind.CHURNED, Decimal(0), 1
        )


def summed(figures: Iterable[DailyFigure]) -> list[DailyFigure]:
    """One figure per (channel, day, currency, kind), amounts and counts added, and
    their totals over every channel (:data:`ALL_CHANNELS`), in key order: what a batch
    adds to the rollup, as few rows as it touches."""
    totals: dict[FigureKey, tuple[Decimal, int]] = {}
    for f in figures:
        if f.channel_id == ALL_CHANNELS:
            raise ValueError("a figure belongs to a channel")
        for key in (f.key, (ALL_CHANNELS, f.day, f.currency, f.kind)):
            amount, count = totals.get(key, (Decimal(0), 0))
            totals[key] = (amount + f.amount, count + f.count)
    return [
        DailyFigure(channel, day, currency, kind, amount, count)
        for (channel, day, currency, kind), (amount, count) in sorted(totals.items())
    ]


__all__ = ["ALL_CHANNELS", "NO_CURRENCY", "DailyFigure", "FigureKey", "FigureKind", "summed"]
