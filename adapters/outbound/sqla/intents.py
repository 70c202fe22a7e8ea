"""Payment intents. ``advance`` is a compare-and-set on the stored status (a batch of
payments moves them through ``payment_ledger``)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Row, and_, bindparam, insert, or_, select, update

from adapters.outbound.sqla.errors import translated
from adapters.outbound.sqla.tables import INTENT_PROGRESS
from adapters.outbound.sqla.tables import payment_intents as t
from adapters.outbound.sqla.transaction import SqlTransaction
from core.domain.ids import ChannelId, IntentId, UserId
from core.domain.intent_state import OPEN_STATUSES, RANK, IntentStatus
from core.domain.money import Money
from core.domain.payment import PaymentIntent, Purpose
from core.ports.errors import NotFound

FINAL_RANK = RANK[IntentStatus.FINISHED]
"""From ``finished`` on (failed, expired, refunded rank higher) nothing is awaited."""


def intent_to_row(intent: PaymentIntent) -> dict[str, Any]:
    paid = intent.actually_paid
    return {
        "id": intent.id,
        "purpose": intent.purpose.value,
        "user_id": intent.user_id,
        "channel_id": intent.channel_id,
        "price": intent.price.amount,
        "currency": intent.price.currency,
        "provider": intent.provider,
        "created_at": intent.created_at,
        "updated_at": intent.updated_at,
        "tier": intent.tier,
        "duration_days": intent.duration_days,
        "status": intent.status.value,
        "status_rank": RANK[intent.status],
        "invoice_id": intent.invoice_id,
        "invoice_url": intent.invoice_url,
        "payment_id": intent.payment_id,
        "fulfilled_at": intent.fulfilled_at,
        "paid_amount": None if paid is None else paid.amount,
        "paid_currency": None if paid is None else paid.currency,
        "ends_at": intent.ends_at,
    }


def intent_from_row(row: Row[Any]) -> PaymentIntent:
    return PaymentIntent(
        id=IntentId(row.id),
        purpose=Purpose(row.purpose),
        user_id=UserId(row.user_id),
        channel_id=ChannelId(row.channel_id),
        price=Money(row.price, row.currency),
        provider=row.provider,
        created_at=row.created_at,
        updated_at=row.updated_at,
        tier=row.tier,
        duration_days=row.duration_days,
        status=IntentStatus(row.status),
        invoice_id=row.invoice_id,
        invoice_url=row.invoice_url,
        payment_id=row.payment_id,
        fulfilled_at=row.fulfilled_at,
        actually_paid=None
        if row.paid_amount is None
        else Money(row.paid_amount, row.paid_currency),
        ends_at=row.ends_at,
    )


def _changes(intent: PaymentIntent) -> dict[str, Any]:
    row = intent_to_row(intent)
    for fixed in ("id", "purpose", "user_id", "channel_id", "created_at"):
        del row[fixed]
    return row


def intent_progress(intent: PaymentIntent) -> dict[str, Any]:
    """What a payment's progress changes: all that ``advance`` writes (it is on the hot
    path of every notification, so it does not rewrite the intent's fixed terms)."""
    row = intent_to_row(intent)
    return {name: row[name] for name in INTENT_PROGRESS}


# Every payment notification reads and advances an intent: prebuilt, these cost no
# statement building per call.
_BY_ID = select(t).where(t.c.id == bindparam("intent_id"))
_ADVANCE = (
    update(t)
    .where(t.c.id == bindparam("intent_id"), t.c.status == bindparam("previous"))
    .values({name: bindparam(name) for name in INTENT_PROGRESS})
)
BY_IDS_SQLITE = select(t).where(t.c.id.in_(bindparam("intent_ids", expanding=True)))
"""A batch of intents on SQLite (``payment_ledger``; Postgres reads them ahead)."""


class SqlIntentRepository:
    def __init__(self, tx: SqlTransaction) -> None:
        self._tx = tx

    async def add(self, intent: PaymentIntent) -> None:
        async with self._tx.savepoint("add payment intent"):
            await self._tx.conn.execute(insert(t).values(intent_to_row(intent)))

    async def get(self, intent_id: IntentId) -> PaymentIntent:
        with translated("read intent"):
            row = (await self._tx.conn.execute(_BY_ID, {"intent_id": intent_id})).first()
        if row is None:
            raise NotFound(f"no payment intent {intent_id}")
        return intent_from_row(row)

    async def find_open(
        self, user_id: UserId, channel_id: ChannelId, purpose: Purpose, tier: int | None
    ) -> PaymentIntent | None:
        query = (
            select(t)
            .where(
                t.c.user_id == user_id,
                t.c.channel_id == channel_id,
                t.c.purpose == purpose.value,
                t.c.tier.is_(None) if tier is None else t.c.tier == tier,
                t.c.status.in_(sorted(s.value for s in OPEN_STATUSES)),
            )
            .order_by(t.c.created_at.desc(), t.c.id.desc())
            .limit(1)
        )
        row = (await self._tx.execute(query, "find open intent")).first()
        return None if row is None else intent_from_row(row)

    async def by_payment(self, provider: str, payment_id: str) -> PaymentIntent | None:
        query = (
            select(t)
            .where(t.c.provider == provider, t.c.payment_id == payment_id)
            .order_by(t.c.created_at.desc(), t.c.id.desc())
            .limit(1)
        )
        row = (await self._tx.execute(query, "find intent by payment")).first()
        return None if row is None else intent_from_row(row)

    async def update(self, intent: PaymentIntent) -> None:
        async with self._tx.savepoint("update payment intent"):
            result = await self._tx.conn.execute(
                update(t).where(t.c.id == intent.id).values(_changes(intent))
            )
        if result.rowcount == 0:
            raise NotFound(f"no payment intent {intent.id}")

    async def advance(self, intent: PaymentIntent, previous: IntentStatus) -> bool:
        # On Postgres a racing UPDATE waits for the first one's row lock, then finds the
        # status changed and matches nothing; on SQLite units of work take turns.
        with translated("advance payment intent"):
            result = await self._tx.conn.execute(
                _ADVANCE,
                {"intent_id": intent.id, "previous": previous.value, **intent_progress(intent)},
            )
        if result.rowcount == 1:
            return True
        exists = select(t.c.id).where(t.c.id == intent.id)
        if (await self._tx.execute(exists, "read intent")).first() is None:
            raise NotFound(f"no payment intent {intent.id}")
        return False

    async def unfinished_before(
        self,
        cutoff: datetime,
        limit: int,
        after: tuple[datetime, IntentId] | None = None,
    ) -> Sequence[PaymentIntent]:
        query = select(t).where(t.c.status_rank < FINAL_RANK, t.c.created_at < cutoff)
        if after is not None:
            at, last_id = after
            query = query.where(
                or_(t.c.created_at > at, and_(t.c.created_at == at, t.c.id > last_id))
            )
        query = query.order_by(t.c.created_at, t.c.id).limit(limit)
        return [intent_from_row(r) for r in await self._tx.execute(query, "read unfinished")]
