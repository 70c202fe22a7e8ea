"""Donations: recorded once per paid intent."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Row, select

from adapters.outbound.sqla.rows import row_of
from adapters.outbound.sqla.tables import donations as t
from adapters.outbound.sqla.transaction import SqlTransaction
from core.domain.donation import Donation
from core.domain.ids import ChannelId, DonationId, IntentId, UserId
from core.domain.money import Money


def donation_to_row(donation: Donation) -> dict[str, Any]:
    return row_of(donation, amount=donation.amount.amount, currency=donation.amount.currency)


def donation_from_row(row: Row[Any]) -> Donation:
    return Donation(
        id=DonationId(row.id),
        intent_id=IntentId(row.intent_id),
        user_id=UserId(row.user_id),
        channel_id=ChannelId(row.channel_id),
        amount=Money(row.amount, row.currency),
        received_at=row.received_at,
    )


class SqlDonationRepository:
    def __init__(self, tx: SqlTransaction) -> None:
        self._tx = tx

    async def for_channel(self, channel_id: ChannelId) -> Sequence[Donation]:
        query = select(t).where(t.c.channel_id == channel_id).order_by(t.c.received_at, t.c.id)
        return [donation_from_row(r) for r in await self._tx.execute(query, "read donations")]
