"""The dashboard's payment lookup and export pages in the database every process
shares: short reads outside any unit of work. A search uses the intents' primary key
and their invoice and payment id indexes, and the notifications' payment id index;
an export page is a keyset read (``id > :after ORDER BY id LIMIT :n``), so each page
costs the same however far into the table it is."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Select, or_, select
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from adapters.outbound.sqla.audit import event_from_row as audit_from_row
from adapters.outbound.sqla.donations import donation_from_row
from adapters.outbound.sqla.errors import translated
from adapters.outbound.sqla.events import event_from_row
from adapters.outbound.sqla.intents import intent_from_row
from adapters.outbound.sqla.subscriptions import subscription_from_row
from adapters.outbound.sqla.tables import (
    audit_events,
    donations,
    payment_events,
    payment_intents,
    subscriptions,
)
from core.domain.donation import Donation
from core.domain.ids import ChannelId, IntentId
from core.domain.payment import PaymentIntent, Purpose
from core.domain.subscription import Subscription
from core.ports.payment_lookup import MAX_FOUND, PaymentRecord

i, e = payment_intents, payment_events


class SqlPaymentLookup:
    """Implements PaymentLookup. Raises Unavailable when the database cannot be reached."""

    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine

    async def find(
        self, text: str, channels: Sequence[ChannelId] | None
    ) -> Sequence[PaymentIntent]:
        by_event = select(e.c.intent_id).where(e.c.payment_id == text, e.c.intent_id.is_not(None))
        query = select(i).where(
            or_(
                i.c.id == text,
                i.c.invoice_id == text,
                i.c.payment_id == text,
                i.c.id.in_(by_event.scalar_subquery()),
            )
        )
        if channels is not None:
            if not channels:
                return []
            query = query.where(i.c.channel_id.in_(list(channels)))
        query = query.order_by(i.c.created_at.desc(), i.c.id.desc()).limit(MAX_FOUND)
        with translated("find payments"):
            async with self._engine.connect() as conn:
                rows = (await conn.execute(query)).all()
        return [intent_from_row(row) for row in rows]

    async def record(self, intent_id: IntentId) -> PaymentRecord | None:
        with translated("read a payment"):
            async with self._engine.connect() as conn:
                return await self._record(conn, intent_id)

    async def _record(self, conn: AsyncConnection, intent_id: IntentId) -> PaymentRecord | None:
        row = (await conn.execute(select(i).where(i.c.id == intent_id))).first()
        if row is None:
            return None
        intent = intent_from_row(row)
        events = await conn.execute(
            select(e).where(e.c.intent_id == intent_id).order_by(e.c.received_at, e.c.id)
        )
        d = donations
        found = (await conn.execute(select(d).where(d.c.intent_id == intent_id))).first()
        donation = None if found is None else donation_from_row(found)
        subscription = None
        if intent.purpose is Purpose.SUBSCRIPTION:
            s = subscriptions
            sub = await conn.execute(
                select(s).where(s.c.user_id == intent.user_id, s.c.channel_id == intent.channel_id)
            )
            first = sub.first()
            subscription = None if first is None else subscription_from_row(first)
        own = f"intent:{intent_id}"
        related = [own]
        if subscription is not None:
            related.append(f"subscription:{subscription.id}")
        if donation is not None:
            related.append(f"donation:{donation.id}")
        a = audit_events
        audit = [
            audit_from_row(r)
            for r in await conn.execute(select(a).where(a.c.subject.in_(related)).order_by(a.c.seq))
        ]
        return PaymentRecord(
            intent,
            tuple(event_from_row(r) for r in events),
            tuple(x for x in audit if x.subject == own or x.details.get("intent") == intent_id),
            donation,
            subscription,
        )


class SqlExportPages:
    """Implements ExportPages."""

    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine

    async def _page(self, query: Select[Any], what: str) -> Sequence[Any]:
        with translated(f"export {what}"):
            async with self._engine.connect() as conn:
                rows: Sequence[Any] = (await conn.execute(query)).all()
        return rows

    async def subscriptions(
        self, channels: Sequence[ChannelId], after: str | None, limit: int
    ) -> Sequence[Subscription]:
        s = subscriptions
        query = select(s).where(s.c.channel_id.in_(list(channels)))
        if after is not None:
            query = query.where(s.c.id > after)
        rows = await self._page(query.order_by(s.c.id).limit(limit), "subscribers")
        return [subscription_from_row(row) for row in rows]

    async def intents(
        self, channels: Sequence[ChannelId], after: str | None, limit: int
    ) -> Sequence[PaymentIntent]:
        query = select(i).where(
            i.c.channel_id.in_(list(channels)),
            or_(
                i.c.invoice_id.is_not(None),
                i.c.payment_id.is_not(None),
                i.c.fulfilled_at.is_not(None),
            ),
        )
        if after is not None:
            query = query.where(i.c.id > after)
        rows = await self._page(query.order_by(i.c.id).limit(limit), "payments")
        return [intent_from_row(row) for row in rows]

    async def donations(
        self, channels: Sequence[ChannelId], after: str | None, limit: int
    ) -> Sequence[Donation]:
        d = donations
        query = select(d).where(d.c.channel_id.in_(list(channels)))
        if after is not None:
            query = query.where(d.c.id > after)
        rows = await self._page(query.order_by(d.c.id).limit(limit), "donations")
        return [donation_from_row(row) for row in rows]
