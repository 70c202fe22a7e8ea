"""Provider notifications as received; a replay is refused by the unique constraint."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from typing import Any

from sqlalchemy import Row, select

from adapters.outbound.sqla.arrays import BatchInsert
from adapters.outbound.sqla.tables import payment_events as t
from adapters.outbound.sqla.transaction import SqlTransaction
from core.domain.ids import IntentId
from core.domain.intent_state import IntentStatus
from core.domain.money import Money
from core.domain.payment import EventKey, EventOutcome, PaymentEvent


def event_to_row(event: PaymentEvent) -> dict[str, Any]:
    paid = event.actually_paid
    return {
        "provider": event.provider,
        "payment_id": event.payment_id,
        "status": event.status.value,
        "order_id": event.order_id,
        "intent_id": event.intent_id,
        "received_at": event.received_at,
        "outcome": event.outcome.value,
        "price": event.price.amount,
        "price_currency": event.price.currency,
        "paid_amount": None if paid is None else paid.amount,
        "paid_currency": None if paid is None else paid.currency,
        "parent_payment_id": event.parent_payment_id,
    }


def event_from_row(row: Row[Any]) -> PaymentEvent:
    return PaymentEvent(
        provider=row.provider,
        payment_id=row.payment_id,
        status=IntentStatus(row.status),
        order_id=row.order_id,
        intent_id=None if row.intent_id is None else IntentId(row.intent_id),
        received_at=row.received_at,
        outcome=EventOutcome(row.outcome),
        price=Money(row.price, row.price_currency),
        actually_paid=None
        if row.paid_amount is None
        else Money(row.paid_amount, row.paid_currency),
        parent_payment_id=row.parent_payment_id,
    )


_KEY = ("provider", "payment_id", "status")
_ADD_MANY = BatchInsert(t, [c.name for c in t.c if c.name != "id"], _KEY, _KEY)


class SqlPaymentEventRepository:
    def __init__(self, tx: SqlTransaction) -> None:
        self._tx = tx

    async def add(self, event: PaymentEvent) -> bool:
        return await self._tx.insert_once(t, event_to_row(event), _KEY, "record payment event")

    async def add_many(self, events: Sequence[PaymentEvent]) -> Sequence[bool]:
        known = self._tx.known
        recorded = known.recorded_events([event.key for event in events])
        if recorded is None or not self._tx.is_postgres:
            rows = [event_to_row(event) for event in events]
            return await self._tx.insert_many_once(_ADD_MANY, rows, "record payment events")
        # Whether each is new is known from the read of the intents (see ``expect``):
        # the new ones go with the next statement, which fails (Conflict) if a racing
        # unit of work recorded one of them meanwhile.
        new: dict[EventKey, PaymentEvent] = {}
        for event in events:
            if event.key not in recorded:
                new.setdefault(event.key, event)
        self._tx.behind.hold(t.name, [event_to_row(event) for event in new.values()])
        known.record_events(new)
        return [event.key not in recorded and new[event.key] is event for event in events]

    def expect(self, keys: Collection[EventKey]) -> None:
        self._tx.known.expect_events(keys)

    async def for_intent(self, intent_id: IntentId) -> Sequence[PaymentEvent]:
        query = select(t).where(t.c.intent_id == intent_id).order_by(t.c.received_at, t.c.id)
        return [event_from_row(r) for r in await self._tx.execute(query, "read payment events")]
