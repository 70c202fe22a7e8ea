"""Provider notifications as received, unique on (provider, payment id, status)."""

from __future__ import annotations

from collections.abc import Collection, Sequence

from adapters.outbound.memory.table import Table, TableView
from core.domain.ids import IntentId
from core.domain.payment import EventKey, PaymentEvent


def payment_events_table() -> Table[EventKey, PaymentEvent]:
    return Table("payment_events", lambda e: (e.provider, e.payment_id, e.status))


class InMemoryPaymentEventRepository:
    """Implements PaymentEventRepository: a replay is refused by the key, not by memory
    of what this process saw."""

    def __init__(self, rows: TableView[EventKey, PaymentEvent]) -> None:
        self._rows = rows

    async def add(self, event: PaymentEvent) -> bool:
        return await self._rows.insert_unless_taken(event)

    async def add_many(self, events: Sequence[PaymentEvent]) -> Sequence[bool]:
        # One by one in order: a later copy of a key finds the first one's write.
        with self._rows.statement():
            return [await self.add(event) for event in events]

    def expect(self, keys: Collection[EventKey]) -> None:
        """Nothing to read ahead: the table is in memory."""

    async def for_intent(self, intent_id: IntentId) -> Sequence[PaymentEvent]:
        return self._rows.select(lambda e: e.intent_id == intent_id, order=lambda e: e.received_at)
