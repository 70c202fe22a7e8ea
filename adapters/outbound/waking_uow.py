"""Waking the outbox dispatcher when a use case commits work for it.

Every unit of work the use cases get is wrapped: when one that queued outbox
messages commits, the process's :class:`~core.ports.outbox_wakeup.OutboxWakeup` is
told, after the commit (a wake-up for rows that were rolled back would only cost a
claim that finds nothing, but one before the commit could find nothing and sleep).
The use cases stay unaware of it, and so does the SQL adapter. Which wake-up it is
(Postgres LISTEN/NOTIFY, a SQLite file's commit counter, this process only) is the
composition's choice, by database.
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime

from adapters.outbound.delegating_uow import DelegatingOutbox, DelegatingUnitOfWork
from core.domain.ids import IntentId
from core.domain.outbox import Effect
from core.domain.payment import EventKey
from core.ports.outbox_wakeup import OutboxWakeup
from core.ports.payment_ledger import PaymentBook, PaymentChanges, PaymentLedger
from core.ports.repositories import OutboxRepository, UnitOfWork, UnitOfWorkFactory

__all__ = ["WakingUnitOfWorkFactory"]


class _WatchedOutbox(DelegatingOutbox):
    """OutboxRepository that remembers whether this transaction queued anything."""

    def __init__(self, inner: OutboxRepository, uow: _WakingUnitOfWork) -> None:
        super().__init__(inner)
        self._uow = uow

    async def enqueue(self, key: str, effect: Effect, at: datetime) -> bool:
        queued = await self._inner.enqueue(key, effect, at)
        self._uow.queued |= queued
        return queued


class _WatchedPayments:
    """PaymentLedger that remembers whether this transaction queued outbox messages."""

    def __init__(self, inner: PaymentLedger, uow: _WakingUnitOfWork) -> None:
        self._inner = inner
        self._uow = uow

    async def load(
        self, keys: Collection[EventKey], intent_ids: Collection[IntentId]
    ) -> PaymentBook:
        return await self._inner.load(keys, intent_ids)

    async def save(self, changes: PaymentChanges, at: datetime) -> None:
        await self._inner.save(changes, at)
        # Keys queued before are skipped without a word: a needless wake-up costs a claim.
        self._uow.queued |= bool(changes.messages)


class _WakingUnitOfWork(DelegatingUnitOfWork):
    """UnitOfWork: the inner one; a commit that queued outbox work wakes dispatchers."""

    def __init__(self, inner: UnitOfWork, wakeup: OutboxWakeup) -> None:
        super().__init__(inner)
        self._wakeup = wakeup
        self.queued = False
        self.outbox = _WatchedOutbox(inner.outbox, self)
        self.payments = _WatchedPayments(inner.payments, self)

    def ended(self) -> None:
        self.queued = False

    async def committed(self) -> None:
        # A retry or a deferral (OutboxRepository.save) is due later; the dispatcher
        # that saved it knows when: only new work wakes the others.
        if self.queued:
            self.queued = False
            await self._wakeup.notify()


class WakingUnitOfWorkFactory:
    """UnitOfWorkFactory whose units of work wake the dispatchers when they commit
    outbox work."""

    def __init__(self, inner: UnitOfWorkFactory, wakeup: OutboxWakeup) -> None:
        self._inner = inner
        self._wakeup = wakeup

    def __call__(self) -> UnitOfWork:
        return _WakingUnitOfWork(self._inner(), self._wakeup)
