"""Units of work and outboxes that pass every call to an inner one: the base of the
wrappers put around the store (commits that wake the dispatchers, the crash tests'
fault points), so each wrapper writes only what it adds."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Self

from core.domain.outbox import Effect, OutboxMessage
from core.ports import repositories
from core.ports.coupons import CouponRepository
from core.ports.figures import FigureRollup
from core.ports.payment_ledger import PaymentLedger
from core.ports.repositories import UnitOfWork
from core.ports.sellers import SellerRequestRepository
from core.ports.stars_renewals import StarsRenewalRepository

__all__ = ["DelegatingOutbox", "DelegatingUnitOfWork"]


class DelegatingOutbox:
    """OutboxRepository: the inner one's, call for call."""

    def __init__(self, inner: repositories.OutboxRepository) -> None:
        self._inner = inner

    async def enqueue(self, key: str, effect: Effect, at: datetime) -> bool:
        return await self._inner.enqueue(key, effect, at)

    async def claim(
        self, now: datetime, limit: int, lease_until: datetime
    ) -> Sequence[OutboxMessage]:
        return await self._inner.claim(now, limit, lease_until)

    async def save(self, message: OutboxMessage) -> None:
        await self._inner.save(message)

    async def get(self, key: str) -> OutboxMessage | None:
        return await self._inner.get(key)

    async def pending_count(self) -> int:
        return await self._inner.pending_count()


class DelegatingUnitOfWork:
    """UnitOfWork: the inner one's repositories and transaction. Subclasses replace
    repositories after ``__init__`` and hook :meth:`ended` (the transaction ended
    without a commit, or is about to end) and :meth:`committed`."""

    def __init__(self, inner: UnitOfWork) -> None:
        self._inner = inner
        self.channels: repositories.ChannelRepository = inner.channels
        self.intents: repositories.IntentRepository = inner.intents
        self.events: repositories.PaymentEventRepository = inner.events
        self.subscriptions: repositories.SubscriptionRepository = inner.subscriptions
        self.grants: repositories.GrantRepository = inner.grants
        self.bundles: repositories.BundleRepository = inner.bundles
        self.donations: repositories.DonationRepository = inner.donations
        self.audit: repositories.AuditLog = inner.audit
        self.outbox: repositories.OutboxRepository = inner.outbox
        self.payments: PaymentLedger = inner.payments
        self.sellers: SellerRequestRepository = inner.sellers
        self.people: repositories.PersonRepository = inner.people
        self.trials: repositories.TrialRepository = inner.trials
        self.stars_renewals: StarsRenewalRepository = inner.stars_renewals
        self.figures: FigureRollup = inner.figures
        self.coupons: CouponRepository = inner.coupons

    async def __aenter__(self) -> Self:
        await self._inner.__aenter__()
        return self

    async def __aexit__(self, exc_type: object, exc: object, tb: object) -> None:
        self.ended()
        await self._inner.__aexit__(exc_type, exc, tb)

    async def commit(self) -> None:
        await self._inner.commit()
        await self.committed()

    async def rollback(self) -> None:
        self.ended()
        await self._inner.rollback()

    def ended(self) -> None:
        """What this wrapper remembered of the transaction no longer holds."""

    async def committed(self) -> None:
        """The inner unit of work committed."""
