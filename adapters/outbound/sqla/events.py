"""Provider notifications as received (recorded by ``payment_ledger``); a replay is
refused by the unique constraint."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Row, select

from adapters.outbound.sqla.tables import payment_events as t
from adapters.outbound.sqla.transaction import SqlTransaction
from core.domain.ids import IntentId
from core.domain.intent_state import IntentStatus
from core.domain.money import Money
from core.domain.payment import EventOutcome, PaymentEvent


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


class SqlPaymentEventRepository:
    def __init__(self, tx: SqlTransaction) -> None:
        self._tx = tx

    async def for_intent(self, intent_id: IntentId) -> Sequence[PaymentEvent]:
        query = select(t).where(t.c.intent_id == intent_id).order_by(t.c.received_at, t.c.id)
        return [event_from_row(r) for r in await self._tx.execute(query, "read payment events")]
