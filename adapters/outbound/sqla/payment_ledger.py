"""The payment path's ledger on SQL: what a batch of notifications needs, read in one
call, and what it changes, written in one call.

On Postgres, where each round trip costs more than the work of the statement, the
read is one statement (``read_ahead``) and the writes are held back and sent as one
self-checking statement with the unit of work's commit (``write_behind``): a key
recorded meanwhile, an intent moved on, a subscription, grant or donation that
exists fails it, and that is Conflict. A subscription renewed or refunded is the one
exception: its versioned update goes at once, one statement for the batch. On SQLite
(a local file, where statements cost no round trip) plain statements in the unit of
work's transaction, each refusing what the port's expectations refuse.
"""

from __future__ import annotations

import copy
from collections.abc import Collection, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import insert, select, update

from adapters.outbound.sqla.arrays import arrays, columns, types_of
from adapters.outbound.sqla.audit import SqlAuditLog
from adapters.outbound.sqla.channels import SqlChannelRepository
from adapters.outbound.sqla.donations import donation_to_row
from adapters.outbound.sqla.events import event_to_row
from adapters.outbound.sqla.figures import SqlFigureRollup
from adapters.outbound.sqla.grants import grant_to_row
from adapters.outbound.sqla.intents import (
    BY_IDS_SQLITE,
    SqlIntentRepository,
    intent_from_row,
    intent_progress,
)
from adapters.outbound.sqla.outbox import ENQUEUE_SQLITE, pending_row
from adapters.outbound.sqla.read_ahead import read_book
from adapters.outbound.sqla.subscriptions import SqlSubscriptionRepository, subscription_to_row
from adapters.outbound.sqla.tables import (
    access_grants,
    donations,
    outbox,
    payment_events,
    payment_intents,
    subscriptions,
)
from adapters.outbound.sqla.transaction import SqlTransaction
from core.domain.ids import IntentId
from core.domain.intent_state import IntentStatus
from core.domain.payment import EventKey, PaymentIntent
from core.domain.subscription import Subscription
from core.ports.errors import Conflict, NotFound
from core.ports.payment_ledger import Buyer, PaymentBook, PaymentChanges
from core.ports.security import Cipher

_CHANGES = arrays("v", types_of(subscriptions, [c.name for c in subscriptions.c]))
_UPDATE_SUBSCRIPTIONS = (
    update(subscriptions)
    .where(subscriptions.c.id == _CHANGES.c.id, subscriptions.c.version == _CHANGES.c.version)
    .values(
        {c.name: _CHANGES.c[c.name] for c in subscriptions.c if c.name not in ("id", "version")}
    )
    .values(version=_CHANGES.c.version + 1)
    .returning(subscriptions.c.id)
)
"""Postgres: the versioned update of a batch's subscriptions, one statement of one
text for any number (see ``arrays``)."""

_RECORDED_SQLITE = select(
    payment_events.c.provider, payment_events.c.payment_id, payment_events.c.status
)


class SqlPaymentLedger:
    """Implements PaymentLedger over the unit of work's transaction."""

    def __init__(
        self,
        tx: SqlTransaction,
        cipher: Cipher,
        audit: SqlAuditLog,
        channels: SqlChannelRepository,
        intents: SqlIntentRepository,
        subscriptions: SqlSubscriptionRepository,
        figures: SqlFigureRollup,
    ) -> None:
        self._tx = tx
        self._cipher = cipher
        self._audit = audit
        self._channels = channels
        self._intents = intents
        self._subscriptions = subscriptions
        self._figures = figures

    async def load(
        self, keys: Collection[EventKey], intent_ids: Collection[IntentId]
    ) -> PaymentBook:
        if self._tx.is_postgres:
            return await read_book(self._tx, keys, intent_ids, self._cipher)
        intents: dict[IntentId, PaymentIntent] = {}
        if intent_ids:
            params = {"intent_ids": sorted(set(intent_ids))}
            rows = await self._tx.execute(BY_IDS_SQLITE, "read intents", params)
            intents = {IntentId(row.id): intent_from_row(row) for row in rows}
        channels = await self._channels.get_many({i.channel_id for i in intents.values()})
        found: dict[Buyer, Subscription] = {}
        for buyer in sorted({(i.user_id, i.channel_id) for i in intents.values()}):
            subscription = await self._subscriptions.find(*buyer)
            if subscription is not None:
                found[buyer] = subscription
        return PaymentBook(await self._recorded(keys), intents, channels, found)

    async def _recorded(self, keys: Collection[EventKey]) -> frozenset[EventKey]:
        if not keys:
            return frozenset()
        wanted = set(keys)
        query = _RECORDED_SQLITE.where(
            payment_events.c.payment_id.in_(sorted({key[1] for key in wanted}))
        )
        rows = await self._tx.execute(query, "read payment events")
        stored = {(r.provider, r.payment_id, IntentStatus(r.status)) for r in rows}
        return frozenset(wanted & stored)

    async def save(self, changes: PaymentChanges, at: datetime) -> None:
        if self._tx.is_postgres:
            await self._save_behind(changes, at)
        else:
            await self._save_at_once(changes, at)
        # Held back with the rest on Postgres (one upsert in the commit's statement).
        await self._figures.add(changes.figures)
        for record in changes.audit:
            await self._audit.append(record, at)

    async def _save_behind(self, changes: PaymentChanges, at: datetime) -> None:
        """Held back to the commit's one statement, in the order it writes (and locks)
        them, which counts the moves and refuses any key that exists."""
        hold = self._tx.behind.hold
        hold(payment_events.name, [event_to_row(e) for e in changes.events])
        hold(payment_intents.name, _move_rows(changes.moves))
        hold(subscriptions.name, [subscription_to_row(s) for s in changes.new_subscriptions])
        if changes.changed_subscriptions:
            await self._update_subscriptions(changes.changed_subscriptions)
        hold(access_grants.name, [grant_to_row(g) for g in changes.grants])
        hold(donations.name, [donation_to_row(d) for d in changes.donations])
        hold(outbox.name, [pending_row(key, effect, at) for key, effect in changes.messages])

    async def _update_subscriptions(self, changed: Sequence[Subscription]) -> None:
        # In id order: two batches sharing subscriptions lock them in the same order, so
        # one waits for the other instead of both deadlocking.
        ordered = sorted(changed, key=lambda s: s.id)
        params = columns([subscription_to_row(s) for s in ordered], _CHANGES.c.keys())
        result = await self._tx.execute(_UPDATE_SUBSCRIPTIONS, "update subscriptions", params)
        stored = set(result.scalars())
        if lost := [s.id for s in ordered if s.id not in stored]:
            raise Conflict(f"subscription {lost[0]} changed since it was read (or is gone)")

    async def _save_at_once(self, changes: PaymentChanges, at: datetime) -> None:
        """Plain statements in the transaction; a uniqueness rule refusing one is
        Conflict (see ``translated``)."""
        tx = self._tx
        await _insert(tx, payment_events.name, [event_to_row(e) for e in changes.events])
        for intent, previous in sorted(changes.moves, key=lambda move: move[0].id):
            try:
                moved = await self._intents.advance(intent, previous)
            except NotFound as exc:
                raise Conflict(f"a payment intent is gone: {exc}") from exc
            if not moved:
                raise Conflict(f"payment intent {intent.id} moved on meanwhile")
        rows = [subscription_to_row(s) for s in changes.new_subscriptions]
        await _insert(tx, subscriptions.name, rows)
        for subscription in sorted(changes.changed_subscriptions, key=lambda s: s.id):
            try:
                # On a copy: the version the caller holds is the one it read.
                await self._subscriptions.update(copy.copy(subscription))
            except NotFound as exc:
                raise Conflict(f"a subscription is gone: {exc}") from exc
        await _insert(tx, access_grants.name, [grant_to_row(g) for g in changes.grants])
        await _insert(tx, donations.name, [donation_to_row(d) for d in changes.donations])
        if changes.messages:
            rows = [pending_row(key, effect, at) for key, effect in changes.messages]
            await tx.execute_many(ENQUEUE_SQLITE, rows, "enqueue outbox messages")


_INSERTS = {t.name: insert(t) for t in (payment_events, subscriptions, access_grants, donations)}


async def _insert(tx: SqlTransaction, table: str, rows: Sequence[dict[str, Any]]) -> None:
    if rows:
        await tx.execute_many(_INSERTS[table], rows, f"record {table}")


def _move_rows(moves: Sequence[tuple[PaymentIntent, IntentStatus]]) -> list[dict[str, Any]]:
    """The rows of ``write_behind.advance_moves``, in id order: two batches sharing
    intents lock them in the same order, so one waits for the other."""
    return [
        {"previous": previous.value, "id": intent.id, **intent_progress(intent)}
        for intent, previous in sorted(moves, key=lambda move: move[0].id)
    ]
