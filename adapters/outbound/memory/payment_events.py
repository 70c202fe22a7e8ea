"""Provider notifications as received, unique on (provider, payment id, status)."""

from __future__ import annotations

from collections.abc import Sequence

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

    async def for_intent(self, intent_id: IntentId) -> Sequence[PaymentEvent]:
        return self._rows.select(lambda e: e.intent_id == intent_id, order=lambda e: e.received_at)
