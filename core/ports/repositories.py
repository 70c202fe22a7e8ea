"""Repositories and the unit of work.

One unit of work per use case: an async context manager that rolls back unless
``commit()`` was called. Repositories speak domain objects only. Writes become
visible to other units of work at commit; uniqueness rules raise ``Conflict`` no
later than commit.

What a batch of payment notifications reads and writes goes through the unit of
work's :class:`~core.ports.payment_ledger.PaymentLedger` (``payments``), in one call
each way; the repositories serve the other use cases.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Protocol, Self

from core.domain.audit import AuditEvent, AuditRecord
from core.domain.bundle import BundleGrant
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
from core.domain.payment import PaymentEvent, PaymentIntent, Purpose
from core.domain.subscription import Subscription
from core.ports.coupons import CouponRepository
from core.ports.errors import Conflict, NotFound
from core.ports.figures import FigureRollup
from core.ports.payment_ledger import PaymentLedger
from core.ports.sellers import SellerRequestRepository
from core.ports.stars_renewals import StarsRenewalRepository

__all__ = [
    "AuditLog",
    "BundleRepository",
    "ChannelRepository",
    "Conflict",
    "DonationRepository",
    "GrantRepository",
    "IntentRepository",
    "NotFound",
    "OutboxRepository",
    "PaymentEventRepository",
    "PersonRepository",
    "SubscriptionRepository",
    "TrialRepository",
    "UnitOfWork",
    "UnitOfWorkFactory",
]


class ChannelRepository(Protocol):
    async def add(self, channel: Channel) -> None:
        """Raises Conflict if either chat already belongs to a registered channel."""
        ...

    async def get(self, channel_id: ChannelId) -> Channel:
        """Raises NotFound."""
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

    async def find_open(
        self, user_id: UserId, channel_id: ChannelId, purpose: Purpose, tier: int | None
    ) -> PaymentIntent | None:
        """The newest open (created/waiting) intent for this user, channel, purpose and tier."""
        ...

    async def by_payment(self, provider: str, payment_id: str) -> PaymentIntent | None:
        """The intent ``provider``'s payment ``payment_id`` moved (a refund names the
        payment, not our order)."""
        ...

    async def update(self, intent: PaymentIntent) -> None:
        """Raises NotFound."""
        ...

    async def advance(self, intent: PaymentIntent, previous: IntentStatus) -> bool:
        """Store ``intent``'s progress (status, payment id, amount paid, fulfilment,
        ``updated_at``) only if its stored status is still ``previous``; other changes
        go through :meth:`update`. Raises NotFound.

        Compare-and-set: of two units of work racing on one intent, exactly one
        advances it; the other gets False (an intent closed by checkout or
        reconciliation while a notification moved it)."""
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


class PaymentEventRepository(Protocol):
    """Provider notifications as received (recorded through ``payments``)."""

    async def for_intent(self, intent_id: IntentId) -> Sequence[PaymentEvent]: ...


class SubscriptionRepository(Protocol):
    async def get(self, subscription_id: SubscriptionId) -> Subscription:
        """Raises NotFound."""
        ...

    async def find(self, user_id: UserId, channel_id: ChannelId) -> Subscription | None: ...

    async def for_user(self, user_id: UserId) -> Sequence[Subscription]: ...

    async def for_channel(self, channel_id: ChannelId) -> Sequence[Subscription]: ...

    async def update(self, subscription: Subscription) -> None:
        """Store the changes if the stored ``version`` is still the one that was read,
        then bump ``version`` (in the store and on ``subscription``). Raises Conflict
        when someone else updated it since it was read; NotFound."""
        ...

    async def active_expiring_before(
        self, cutoff: datetime, after: tuple[datetime, SubscriptionId] | None, limit: int
    ) -> Sequence[Subscription]:
        """Active subscriptions with ``expires_at <= cutoff``, ordered by
        (expires_at, id), strictly after the keyset ``after``: one page of a sweep."""
        ...


class GrantRepository(Protocol):
    async def get(self, grant_id: GrantId) -> AccessGrant:
        """Raises NotFound."""
        ...

    async def latest_for(self, subscription_id: SubscriptionId) -> AccessGrant | None: ...

    async def update(self, grant: AccessGrant) -> None: ...


class BundleRepository(Protocol):
    """Which channels each home channel's subscription also opens (issue 21), and
    which member chats each subscription period was granted."""

    async def members(self, home: ChannelId) -> Sequence[ChannelId]:
        """The channels bundled with ``home``, in the order they were added."""
        ...

    async def homes_of(self, member: ChannelId) -> Sequence[ChannelId]:
        """The home channels whose bundles hold ``member``."""
        ...

    async def pairs(self) -> Sequence[tuple[ChannelId, ChannelId]]:
        """Every (home, member), by home then the order members were added."""
        ...

    async def add(self, home: ChannelId, member: ChannelId, at: datetime) -> bool:
        """Put ``member`` in ``home``'s bundle; False if it is there already."""
        ...

    async def remove(self, home: ChannelId, member: ChannelId) -> bool:
        """Take ``member`` out of ``home``'s bundle; False if it was not there."""
        ...

    async def add_grant(self, grant: BundleGrant) -> bool:
        """Record that ``grant``'s chat was granted for its subscription period; False
        (nothing written) if it was already. Of two units of work racing on one
        grant, one gets True and the other False or Conflict at commit."""
        ...

    async def grants_of(self, subscription_id: SubscriptionId) -> Sequence[BundleGrant]:
        """The member chats granted to ``subscription_id``, by (period, time granted)."""
        ...


class DonationRepository(Protocol):
    """Donations as received (recorded through ``payments``)."""

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


# ---- a person's data (issue 18): export and erase ----
class PersonRepository(Protocol):
    """What the store holds about one Telegram user, beyond what the other
    repositories find by user already (subscriptions, owned channels, seller request)."""

    async def intents_of(self, user_id: UserId) -> Sequence[PaymentIntent]:
        """Every payment intent the person made, oldest first."""
        ...

    async def grants_of(self, user_id: UserId) -> Sequence[AccessGrant]:
        """Every access grant issued to the person, oldest first."""
        ...

    async def donations_of(self, user_id: UserId) -> Sequence[Donation]:
        """Every donation the person made, oldest first."""
        ...

    async def pseudonymize(self, user_id: UserId, pseudonym: UserId) -> int:
        """Put ``pseudonym`` in place of ``user_id`` wherever a row must stay for the
        books (subscriptions, payment intents, access grants, donations, the seller
        requests the person decided as an operator, their Stars subscriptions, the
        records of the trials they took), drop the invite links of their grants, and
        delete their own request to sell (its name is all it holds).
        Owned channels are left to the caller (the channel repository). Returns how
        many rows changed."""
        ...


# ---- end a person's data ----


class TrialRepository(Protocol):
    """Who took which channel's trial: kept for good (a person who left and came back,
    or whose subscription ended, still had theirs)."""

    async def add(self, channel_id: ChannelId, user_id: UserId, at: datetime) -> bool:
        """Record that the person took the channel's trial; False, and nothing written,
        if they had it before. Of two units of work racing for one person and channel,
        exactly one gets True (the other waits for it, then sees the record)."""
        ...

    async def taken(self, channel_id: ChannelId, user_id: UserId) -> bool: ...

    async def paid_before(self, channel_id: ChannelId, user_id: UserId) -> bool:
        """Whether any payment of the person's for this channel was ever fulfilled (a
        subscription, a paid trial or a donation)."""
        ...

    async def count(self, channel_id: ChannelId) -> int:
        """How many people took the channel's trial (paid trials are payments)."""
        ...


class UnitOfWork(Protocol):
    channels: ChannelRepository
    intents: IntentRepository
    events: PaymentEventRepository
    subscriptions: SubscriptionRepository
    grants: GrantRepository
    bundles: BundleRepository
    donations: DonationRepository
    audit: AuditLog
    outbox: OutboxRepository
    payments: PaymentLedger
    sellers: SellerRequestRepository
    people: PersonRepository  # a person's data (issue 18)
    trials: TrialRepository
    stars_renewals: StarsRenewalRepository  # self-renewing Stars subscriptions (issue 21)
    figures: FigureRollup  # the dashboard's daily rollup (issue 20)
    coupons: CouponRepository  # coupons and access codes (issue 21)

    async def __aenter__(self) -> Self: ...

    async def __aexit__(self, exc_type: object, exc: object, tb: object) -> None:
        """Roll back unless committed."""
        ...

    async def commit(self) -> None:
        """Raises Conflict when a uniqueness rule refuses the writes; Unavailable."""
        ...

    async def rollback(self) -> None: ...


class UnitOfWorkFactory(Protocol):
    def __call__(self) -> UnitOfWork: ...
