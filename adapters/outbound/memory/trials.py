"""Trial records in memory: one per person and channel, ever."""

from __future__ import annotations

from datetime import datetime

from adapters.outbound.memory.clock import require_utc
from adapters.outbound.memory.table import Table, TableView
from core.domain.ids import ChannelId, IntentId, UserId
from core.domain.payment import PaymentIntent
from core.domain.trial import TrialTaken

TrialKey = tuple[ChannelId, UserId]


def trials_table() -> Table[TrialKey, TrialTaken]:
    return Table("trials", lambda t: (t.channel_id, t.user_id))


class InMemoryTrialRepository:
    """Implements TrialRepository."""

    def __init__(
        self,
        rows: TableView[TrialKey, TrialTaken],
        intents: TableView[IntentId, PaymentIntent],
    ) -> None:
        self._rows = rows
        self._intents = intents

    async def add(self, channel_id: ChannelId, user_id: UserId, at: datetime) -> bool:
        return await self._rows.insert_unless_taken(
            TrialTaken(channel_id, user_id, require_utc(at))
        )

    async def taken(self, channel_id: ChannelId, user_id: UserId) -> bool:
        return self._rows.has((channel_id, user_id))

    async def paid_before(self, channel_id: ChannelId, user_id: UserId) -> bool:
        return (
            self._intents.count(
                lambda i: i.channel_id == channel_id and i.user_id == user_id and i.is_fulfilled
            )
            > 0
        )

    async def count(self, channel_id: ChannelId) -> int:
        return self._rows.count(lambda t: t.channel_id == channel_id)
