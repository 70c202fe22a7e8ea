"""The dashboard's payment lookup and export pages over the committed rows of an
InMemoryStore (tests, one process)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, TypeVar

from adapters.outbound.memory.store import InMemoryStore
from adapters.outbound.memory.table import Table, TableView
from core.domain.donation import Donation
from core.domain.ids import ChannelId, IntentId
from core.domain.payment import PaymentIntent, Purpose
from core.domain.subscription import Subscription
from core.ports.payment_lookup import MAX_FOUND, PaymentRecord

K = TypeVar("K")
V = TypeVar("V")


def _view(store: InMemoryStore, table: Table[Any, V], owner: object) -> TableView[Any, V]:
    return TableView(table, store.locks, owner, store.next_seq)


def _reached_the_provider(i: PaymentIntent) -> bool:
    return i.invoice_id is not None or i.payment_id is not None or i.fulfilled_at is not None


class InMemoryPaymentLookup:
    """Implements PaymentLookup."""

    def __init__(self, store: InMemoryStore) -> None:
        self._store = store

    async def find(
        self, text: str, channels: Sequence[ChannelId] | None
    ) -> Sequence[PaymentIntent]:
        store = self._store
        by_event = {
            e.intent_id
            for e in _view(store, store.events, self).select(lambda e: e.payment_id == text)
            if e.intent_id is not None
        }
        wanted = None if channels is None else set(channels)
        found = _view(store, store.intents, self).select(
            lambda i: (
                (i.id == text or i.invoice_id == text or i.payment_id == text or i.id in by_event)
                and (wanted is None or i.channel_id in wanted)
            )
        )
        found.sort(key=lambda i: (i.created_at, i.id), reverse=True)
        return found[:MAX_FOUND]

    async def record(self, intent_id: IntentId) -> PaymentRecord | None:
        store = self._store
        intent = _view(store, store.intents, self).get(intent_id)
        if intent is None:
            return None
        events = _view(store, store.events, self).select(lambda e: e.intent_id == intent_id)
        events.sort(key=lambda e: e.received_at)
        donations = _view(store, store.donations, self).select(lambda d: d.intent_id == intent_id)
        subscription = None
        if intent.purpose is Purpose.SUBSCRIPTION:
            found = _view(store, store.subscriptions, self).select(
                lambda s: s.user_id == intent.user_id and s.channel_id == intent.channel_id
            )
            subscription = found[0] if found else None
        subjects = {f"intent:{intent_id}"}
        if subscription is not None:
            subjects.add(f"subscription:{subscription.id}")
        subjects |= {f"donation:{d.id}" for d in donations}
        audit = _view(store, store.audit, self).select(
            lambda a: (
                a.subject == f"intent:{intent_id}"
                or (a.subject in subjects and a.details.get("intent") == intent_id)
            ),
            order=lambda a: a.seq,
        )
        return PaymentRecord(
            intent,
            tuple(events),
            tuple(audit),
            donations[0] if donations else None,
            subscription,
        )


class InMemoryExportPages:
    """Implements ExportPages."""

    def __init__(self, store: InMemoryStore) -> None:
        self._store = store

    async def subscriptions(
        self, channels: Sequence[ChannelId], after: str | None, limit: int
    ) -> Sequence[Subscription]:
        wanted = set(channels)
        return _view(self._store, self._store.subscriptions, self).select(
            lambda s: s.channel_id in wanted and (after is None or s.id > after),
            order=lambda s: s.id,
            limit=limit,
        )

    async def intents(
        self, channels: Sequence[ChannelId], after: str | None, limit: int
    ) -> Sequence[PaymentIntent]:
        wanted = set(channels)
        return _view(self._store, self._store.intents, self).select(
            lambda i: (
                i.channel_id in wanted
                and _reached_the_provider(i)
                and (after is None or i.id > after)
            ),
            order=lambda i: i.id,
            limit=limit,
        )

    async def donations(
        self, channels: Sequence[ChannelId], after: str | None, limit: int
    ) -> Sequence[Donation]:
        wanted = set(channels)
        return _view(self._store, self._store.donations, self).select(
            lambda d: d.channel_id in wanted and (after is None or d.id > after),
            order=lambda d: d.id,
            limit=limit,
        )
