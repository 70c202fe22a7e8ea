"""Payment intents in memory, with the compare-and-set the payment path relies on."""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from datetime import datetime

from adapters.outbound.memory.clock import require_utc
from adapters.outbound.memory.table import Table, TableView
from core.domain.ids import ChannelId, IntentId, UserId
from core.domain.intent_state import OPEN_STATUSES, IntentStatus
from core.domain.payment import PaymentIntent, Purpose

FINAL_STATUSES = frozenset(
    {IntentStatus.FINISHED, IntentStatus.FAILED, IntentStatus.EXPIRED, IntentStatus.REFUNDED}
)
"""Reconciliation stops asking the provider about these (a refund of a finished payment
arrives by notification)."""


def _open_subscription(intent: PaymentIntent) -> tuple[Hashable, ...]:
    # A partial unique index: only open subscription intents take part, so two
    # racing checkouts of one tier cannot both create an invoice.
    if intent.purpose is Purpose.SUBSCRIPTION and intent.status in OPEN_STATUSES:
        return ((intent.user_id, intent.channel_id, intent.tier),)
    return ()


def intents_table() -> Table[IntentId, PaymentIntent]:
    return Table("payment_intents", lambda i: i.id, {"open_subscription": _open_subscription})


class InMemoryIntentRepository:
    """Implements IntentRepository."""

    def __init__(self, rows: TableView[IntentId, PaymentIntent]) -> None:
        self._rows = rows

    async def add(self, intent: PaymentIntent) -> None:
        await self._rows.insert(intent)

    async def get(self, intent_id: IntentId) -> PaymentIntent:
        return self._rows.require(intent_id, "payment intent")

    async def find_open(
        self, user_id: UserId, channel_id: ChannelId, purpose: Purpose, tier: int | None
    ) -> PaymentIntent | None:
        matches = self._rows.select(
            lambda i: (
                i.user_id == user_id
                and i.channel_id == channel_id
                and i.purpose == purpose
                and i.tier == tier
                and i.status in OPEN_STATUSES
            ),
            order=lambda i: i.created_at,
        )
        # Ordered by time, then insertion: the last is the newest.
        return matches[-1] if matches else None

    async def by_payment(self, provider: str, payment_id: str) -> PaymentIntent | None:
        matches = self._rows.select(
            lambda i: i.provider == provider and i.payment_id == payment_id,
            order=lambda i: i.created_at,
        )
        return matches[-1] if matches else None

    async def update(self, intent: PaymentIntent) -> None:
        await self._rows.update(intent, "payment intent")

    async def advance(self, intent: PaymentIntent, previous: IntentStatus) -> bool:
        # The row lock is what makes this a compare-and-set: a racing unit of work that
        # advanced first has committed (or rolled back) before the status is compared.
        return await self._rows.compare_and_set(
            intent, "payment intent", lambda stored: stored.status == previous
        )

    async def unfinished_before(
        self,
        cutoff: datetime,
        limit: int,
        after: tuple[datetime, IntentId] | None = None,
    ) -> Sequence[PaymentIntent]:
        cutoff = require_utc(cutoff, "cutoff")
        return self._rows.select(
            lambda i: (
                i.status not in FINAL_STATUSES
                and i.created_at < cutoff
                and (after is None or (i.created_at, i.id) > after)
            ),
            order=lambda i: (i.created_at, i.id),
            limit=limit,
        )
