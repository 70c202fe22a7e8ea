"""The payment path's ledger in memory: dicts behind the unit of work's views, with the
row locks a database would take, so racing units of work behave as on Postgres."""

from __future__ import annotations

from collections.abc import Callable, Collection
from datetime import datetime

import attrs

from adapters.outbound.memory.audit_log import InMemoryAuditLog
from adapters.outbound.memory.clock import require_utc
from adapters.outbound.memory.figures import InMemoryFigureRollup
from adapters.outbound.memory.outbox import InMemoryOutboxRepository
from adapters.outbound.memory.table import TableView
from core.domain.channel import Channel
from core.domain.donation import Donation
from core.domain.grant import AccessGrant
from core.domain.ids import ChannelId, DonationId, GrantId, IntentId, SubscriptionId
from core.domain.intent_state import IntentStatus
from core.domain.payment import EventKey, PaymentEvent, PaymentIntent
from core.domain.subscription import Subscription
from core.ports.errors import Conflict, NotFound
from core.ports.payment_ledger import Buyer, PaymentBook, PaymentChanges


@attrs.frozen
class PaymentTables:
    """This unit of work's views of the tables a batch of payments reads and writes."""

    events: TableView[EventKey, PaymentEvent]
    intents: TableView[IntentId, PaymentIntent]
    channels: TableView[ChannelId, Channel]
    subscriptions: TableView[SubscriptionId, Subscription]
    grants: TableView[GrantId, AccessGrant]
    donations: TableView[DonationId, Donation]


class InMemoryPaymentLedger:
    """Implements PaymentLedger."""

    def __init__(
        self,
        tables: PaymentTables,
        outbox: InMemoryOutboxRepository,
        audit: InMemoryAuditLog,
        figures: InMemoryFigureRollup,
    ) -> None:
        self._t = tables
        self._outbox = outbox
        self._audit = audit
        self._figures = figures

    async def load(
        self, keys: Collection[EventKey], intent_ids: Collection[IntentId]
    ) -> PaymentBook:
        t = self._t
        found = {i: t.intents.get(i) for i in intent_ids}
        intents = {i: intent for i, intent in found.items() if intent is not None}
        channels = {c: t.channels.get(c) for c in {i.channel_id for i in intents.values()}}
        subscriptions: dict[Buyer, Subscription] = {}
        for buyer in {(i.user_id, i.channel_id) for i in intents.values()}:
            key = t.subscriptions.lookup("user_channel", buyer)
            subscription = None if key is None else t.subscriptions.get(key)
            if subscription is not None:
                subscriptions[buyer] = subscription
        return PaymentBook(
            recorded=frozenset(key for key in keys if t.events.has(key)),
            intents=intents,
            channels={c: channel for c, channel in channels.items() if channel is not None},
            subscriptions=subscriptions,
        )

    async def save(self, changes: PaymentChanges, at: datetime) -> None:
        at = require_utc(at, "the save time")
        t = self._t
        # Locks in the order the SQL stores take them (events, intents by id, then the
        # rest): two batches sharing rows queue instead of deadlocking.
        for event in changes.events:
            await t.events.insert(event)  # Conflict: recorded meanwhile
        for intent, previous in sorted(changes.moves, key=lambda move: move[0].id):
            try:
                moved = await t.intents.compare_and_set(
                    intent, "payment intent", _in_status(previous)
                )
            except NotFound as exc:
                raise Conflict(f"a payment intent is gone: {exc}") from exc
            if not moved:
                raise Conflict(f"payment intent {intent.id} moved on meanwhile")
        for subscription in changes.new_subscriptions:
            await t.subscriptions.insert(subscription)  # Conflict: one exists
        for subscription in sorted(changes.changed_subscriptions, key=lambda s: s.id):
            read = subscription.version
            bumped = attrs.evolve(subscription, version=read + 1)
            try:
                stored = await t.subscriptions.compare_and_set(
                    bumped, "subscription", _at_version(read)
                )
            except NotFound as exc:
                raise Conflict(f"a subscription is gone: {exc}") from exc
            if not stored:
                raise Conflict(f"subscription {subscription.id} changed since it was read")
        for grant in changes.grants:
            if not await t.grants.insert_unless_taken(grant, "period"):
                raise Conflict(
                    f"subscription {grant.subscription_id} already has a grant "
                    f"for period {grant.period}"
                )
        for donation in changes.donations:
            if not await t.donations.insert_unless_taken(donation, "intent"):
                raise Conflict(f"intent {donation.intent_id} already has its donation")
        for key, effect in changes.messages:
            await self._outbox.enqueue(key, effect, at)
        await self._figures.add(changes.figures)
        for record in changes.audit:
            await self._audit.append(record, at)


def _in_status(previous: IntentStatus) -> Callable[[PaymentIntent], bool]:
    def unmoved(stored: PaymentIntent) -> bool:
        return stored.status == previous

    return unmoved


def _at_version(read: int) -> Callable[[Subscription], bool]:
    def unchanged(stored: Subscription) -> bool:
        return stored.version == read

    return unchanged
