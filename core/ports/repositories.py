"""Repositories and the unit of work.

One unit of work per use case: an async context manager that rolls back unless
``commit()`` was called. Repositories speak domain objects only. Writes become
visible to other units of work at commit; uniqueness rules raise ``Conflict`` no
later than commit.

Methods named ``*_many`` are the set-at-a-time forms of their single-item
namesakes, with the same rules per item: one statement for a whole batch of
payment notifications instead of one per notification. The order of a returned
sequence is the order of the input.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from datetime import datetime
from types import TracebackType
from typing import Protocol, Self

from core.domain.audit import AuditEvent, AuditRecord
from core.domain.channel import Channel, OfferPost
from core.domain.donation import Donation
from core.domain.grant import AccessGrant
from core.domain.ids import (
    ChannelId,
    ChatId,
    GrantId,
    IntentId,
    MessageId,
    SubscriptionId,
    UserId,
)
from core.domain.intent_state import IntentStatus
from core.domain.outbox import Effect, OutboxMessage
from core.domain.payment import EventKey, PaymentEvent, PaymentIntent, Purpose
from core.domain.subscription import Subscription
from core.ports.errors import Conflict, NotFound

__all__ = [
    "AuditLog",
    "ChannelRepository",
    "Conflict",
    "DonationRepository",
    "GrantRepository",
    "IntentRepository",
    "NotFound",
    "OutboxRepository",
    "PaymentEventRepository",
    "SubscriptionRepository",
    "UnitOfWork",
    "UnitOfWorkFactory",
    "advance_all_at_once",
]


class ChannelRepository(Protocol):
    async def add(self, channel: Channel) -> None:
        """Raises Conflict if either chat already belongs to a registered channel."""
        ...

    async def get(self, channel_id: ChannelId) -> Channel:
        """Raises NotFound."""
        ...

    async def get_many(self, channel_ids: Collection[ChannelId]) -> Mapping[ChannelId, Channel]:
        """The channels that exist among ``channel_ids``, by id (missing ones left out)."""
        ...

    async def by_chat(self, chat_id: ChatId) -> Channel | None:
        """The channel whose open or closed chat this is."""
        ...

    async def by_owner(self, owner_id: UserId) -> Sequence[Channel]: ...

    async def all(self) -> Sequence[Channel]: ...

    async def update(self, channel: Channel) -> None:
        """Raises NotFound."""
        ...

    async def record_post(
        self,
        channel_id: ChannelId,
        donate: bool,
        post: OfferPost | None,
        previous: MessageId | None,
    ) -> bool:
        """Store ``post`` as the channel's standing offer (``donate``: Donate) message,
        or that none stands (``post`` None, once it was taken down), only if the one
        standing is still ``previous``: False, and nothing written, when another
        publisher recorded one first (or the channel is gone)."""
        ...


class IntentRepository(Protocol):
    async def add(self, intent: PaymentIntent) -> None:
        """Raises Conflict if another open subscription intent for the same user, channel
        and tier exists (so two racing checkouts cannot both create one)."""
        ...

    async def get(self, intent_id: IntentId) -> PaymentIntent:
        """Raises NotFound."""
        ...

    async def get_many(self, intent_ids: Collection[IntentId]) -> Mapping[IntentId, PaymentIntent]:
        """The intents that exist among ``intent_ids``, by id (missing ones left out)."""
        ...

    async def find_open(
        self, user_id: UserId, channel_id: ChannelId, purpose: Purpose, tier: int | None
    ) -> PaymentIntent | None:
        """The newest open (created/waiting) intent for this user, channel, purpose and tier."""
        ...

    async def update(self, intent: PaymentIntent) -> None:
        """Raises NotFound."""
        ...

    async def advance(self, intent: PaymentIntent, previous: IntentStatus) -> bool:
        """Store ``intent``'s progress (status, payment id, amount paid, fulfilment,
        ``updated_at``) only if its stored status is still ``previous``; other changes
        go through :meth:`update`.

        Compare-and-set: of two units of work racing on one intent, exactly one
        advances it; the other gets False and must treat its notification as stale.
        """
        ...

    async def advance_many(
        self, moves: Sequence[tuple[PaymentIntent, IntentStatus]]
    ) -> Sequence[bool]:
        """:meth:`advance` for each (intent, previous status). Each intent appears once
        (ValueError otherwise)."""
        ...

    async def advance_all(self, moves: Sequence[tuple[PaymentIntent, IntentStatus]]) -> None:
        """Advance every intent from its previous status, or leave the unit of work
        unable to commit: if any intent moved on (or is gone), raises Conflict, at
        once or from a later statement of the unit of work, at the latest its commit.
        For callers that give up the whole unit of work on a lost race (a store may
        then write the moves with what the unit of work writes last). Each intent
        appears once (ValueError otherwise)."""
        ...

    async def unfinished_before(
        self,
        cutoff: datetime,
        limit: int,
        after: tuple[datetime, IntentId] | None = None,
    ) -> Sequence[PaymentIntent]:
        """Intents not yet final created before ``cutoff``, by (created_at, id), after
        the position ``after`` when given: keyset pages, for reconciliation."""
        ...


async def advance_all_at_once(
    intents: IntentRepository, moves: Sequence[tuple[PaymentIntent, IntentStatus]]
) -> None:
    """:meth:`IntentRepository.advance_all` for a store that writes at once: every move
    now, or Conflict (the caller then rolls the unit of work back)."""
    try:
        advanced = await intents.advance_many(moves)
    except NotFound as exc:
        raise Conflict(f"a payment intent is gone: {exc}") from exc
    if not all(advanced):
        raise Conflict("a payment intent moved on meanwhile")


class PaymentEventRepository(Protocol):
    async def add(self, event: PaymentEvent) -> bool:
        """Record the event; False (and nothing written) if (provider, payment_id,
        status) was recorded before."""
        ...

    async def add_many(self, events: Sequence[PaymentEvent]) -> Sequence[bool]:
        """:meth:`add` for each event; of copies of one (provider, payment_id, status)
        in ``events``, at most the first is recorded."""
        ...

    def expect(self, keys: Collection[EventKey]) -> None:
        """Say which (provider, payment_id, status) this unit of work is about to
        record, before it reads anything else. A store may then learn whether they
        are recorded with what it reads next, and write them with what it writes next
        (a round trip fewer); a copy recorded meanwhile by a racing unit of work is
        then Conflict from that statement or the commit. Ignoring it is correct."""
        ...

    async def for_intent(self, intent_id: IntentId) -> Sequence[PaymentEvent]: ...


class SubscriptionRepository(Protocol):
    async def add(self, subscription: Subscription) -> None:
        """Raises Conflict if the user already has a subscription to that channel."""
        ...

    async def get(self, subscription_id: SubscriptionId) -> Subscription:
        """Raises NotFound."""
        ...

    async def find(self, user_id: UserId, channel_id: ChannelId) -> Subscription | None: ...

    async def find_many(
        self, keys: Collection[tuple[UserId, ChannelId]]
    ) -> Mapping[tuple[UserId, ChannelId], Subscription]:
        """The subscriptions that exist among these (user, channel) pairs, by pair."""
        ...

    async def add_many(self, subscriptions: Sequence[Subscription]) -> None:
        """:meth:`add` for each: Conflict (no later than commit) if any user already
        has a subscription to that channel, or one pair appears twice."""
        ...

    async def for_user(self, user_id: UserId) -> Sequence[Subscription]: ...

    async def for_channel(self, channel_id: ChannelId) -> Sequence[Subscription]: ...

    async def update(self, subscription: Subscription) -> None:
        """Store the changes if the stored ``version`` is still the one that was read,
        then bump ``version`` (in the store and on ``subscription``). Raises Conflict
        when someone else updated it since it was read; NotFound."""
        ...

    async def update_many(self, subscriptions: Sequence[Subscription]) -> None:
        """:meth:`update` for each, all or nothing for the unit of work: Conflict when
        any of them changed since it was read (or appears twice); NotFound when any
        is gone. Versions are bumped on the objects only when all were stored."""
        ...

    async def active_expiring_before(
        self, cutoff: datetime, after: tuple[datetime, SubscriptionId] | None, limit: int
    ) -> Sequence[Subscription]:
        """Active subscriptions with ``expires_at <= cutoff``, ordered by
        (expires_at, id), strictly after the keyset ``after``: one page of a sweep."""
        ...


class GrantRepository(Protocol):
    async def add(self, grant: AccessGrant) -> bool:
        """False (and nothing written) if the subscription's period already has a grant."""
        ...

    async def add_many(self, grants: Sequence[AccessGrant]) -> None:
        """Store grants of periods their subscriptions have just entered, which hold
        no grant yet: Conflict (no later than commit) if one does, or one period
        appears twice; the caller rolls back, nothing of the batch stays."""
        ...

    async def get(self, grant_id: GrantId) -> AccessGrant:
        """Raises NotFound."""
        ...

    async def latest_for(self, subscription_id: SubscriptionId) -> AccessGrant | None: ...

    async def update(self, grant: AccessGrant) -> None: ...


class DonationRepository(Protocol):
    async def add(self, donation: Donation) -> bool:
        """False if this intent's donation was recorded before."""
        ...

    async def add_many(self, donations: Sequence[Donation]) -> Sequence[bool]:
        """:meth:`add` for each donation; of donations for one intent in ``donations``,
        at most the first is recorded."""
        ...

    async def for_channel(self, channel_id: ChannelId) -> Sequence[Donation]: ...


class AuditLog(Protocol):
    async def append(self, record: AuditRecord, at: datetime) -> None:
        """Record ``record`` in this unit of work. It is chained after the last event
        (see :mod:`core.domain.audit`) when the unit of work commits, so appenders
        take turns on the chain's tail only for the moment of the commit; a unit of
        work that rolls back leaves no trace and no gap."""
        ...

    async def all(self) -> Sequence[AuditEvent]:
        """Every event in order (for verification and tests)."""
        ...


class OutboxRepository(Protocol):
    async def enqueue(self, key: str, effect: Effect, at: datetime) -> bool:
        """Queue ``effect`` under the unique ``key``; False if that key was queued before."""
        ...

    async def enqueue_many(self, messages: Sequence[tuple[str, Effect]], at: datetime) -> None:
        """:meth:`enqueue` for each (key, effect); keys queued before (or earlier in
        ``messages``) are skipped."""
        ...

    async def claim(
        self, now: datetime, limit: int, lease_until: datetime
    ) -> Sequence[OutboxMessage]:
        """Take up to ``limit`` pending messages due at ``now`` and hide them from other
        claimers until ``lease_until`` (a crashed worker's claims come back then).
        Concurrent claimers never get the same message."""
        ...

    async def save(self, message: OutboxMessage) -> None:
        """Store the outcome of a try (done, retry time, or dead)."""
        ...

    async def get(self, key: str) -> OutboxMessage | None: ...

    async def pending_count(self) -> int: ...


class UnitOfWork(Protocol):
    channels: ChannelRepository
    intents: IntentRepository
    events: PaymentEventRepository
    subscriptions: SubscriptionRepository
    grants: GrantRepository
    donations: DonationRepository
    audit: AuditLog
    outbox: OutboxRepository

    async def __aenter__(self) -> Self: ...

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        """Roll back unless committed."""
        ...

    async def commit(self) -> None:
        """Raises Conflict when a uniqueness rule refuses the writes; Unavailable."""
        ...

    async def rollback(self) -> None: ...


class UnitOfWorkFactory(Protocol):
    def __call__(self) -> UnitOfWork: ...
