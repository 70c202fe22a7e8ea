"""Donations in memory: recorded once per fulfilled intent."""

from __future__ import annotations

from collections.abc import Sequence

from adapters.outbound.memory.table import Table, TableView
from core.domain.donation import Donation
from core.domain.ids import ChannelId, DonationId


def donations_table() -> Table[DonationId, Donation]:
    return Table("donations", lambda d: d.id, {"intent": lambda d: (d.intent_id,)})


class InMemoryDonationRepository:
    """Implements DonationRepository."""

    def __init__(self, rows: TableView[DonationId, Donation]) -> None:
        self._rows = rows

    async def for_channel(self, channel_id: ChannelId) -> Sequence[Donation]:
        return self._rows.select(
            lambda d: d.channel_id == channel_id, order=lambda d: d.received_at
        )
