"""The in-memory unit of work: every repository over one overlay of the shared store."""

from __future__ import annotations

from collections.abc import Hashable
from typing import Protocol, Self, TypeVar

from adapters.outbound.memory.audit_log import InMemoryAuditLog
from adapters.outbound.memory.bundles import InMemoryBundleRepository
from adapters.outbound.memory.channels import InMemoryChannelRepository
from adapters.outbound.memory.coupons import InMemoryCouponRepository
from adapters.outbound.memory.donations import InMemoryDonationRepository
from adapters.outbound.memory.figures import InMemoryFigureRollup
from adapters.outbound.memory.grants import InMemoryGrantRepository
from adapters.outbound.memory.intents import InMemoryIntentRepository
from adapters.outbound.memory.outbox import InMemoryOutboxRepository
from adapters.outbound.memory.payment_events import InMemoryPaymentEventRepository
from adapters.outbound.memory.payment_ledger import InMemoryPaymentLedger, PaymentTables
from adapters.outbound.memory.people import InMemoryPersonRepository, PersonTables
from adapters.outbound.memory.seller_requests import InMemorySellerRequestRepository
from adapters.outbound.memory.stars_renewals import InMemoryStarsRenewalRepository
from adapters.outbound.memory.store import InMemoryStore
from adapters.outbound.memory.subscriptions import InMemorySubscriptionRepository
from adapters.outbound.memory.table import Table, TableView
from adapters.outbound.memory.trials import InMemoryTrialRepository
from core.ports import repositories
from core.ports.coupons import CouponRepository
from core.ports.errors import Conflict
from core.ports.figures import FigureRollup
from core.ports.payment_ledger import PaymentLedger
from core.ports.sellers import SellerRequestRepository
from core.ports.stars_renewals import StarsRenewalRepository

_K = TypeVar("_K", bound=Hashable)
_V = TypeVar("_V")


class _Transactional(Protocol):
    def validate(self) -> None: ...

    def apply(self) -> None: ...

    def reset(self) -> None: ...


class InMemoryUnitOfWork:
    """Implements UnitOfWork.

    Writes go to this unit of work's overlay and reach the store at ``commit``, all
    tables at once or none, without ever yielding to the event loop in between.
    Before applying, ``commit`` checks every uniqueness rule against what others
    committed meanwhile; the locks writers hold make that check a guard that should
    never fire, and if it does everything is discarded and Conflict raised. Leaving
    the ``async with`` block without committing rolls back. After a commit or a
    rollback the unit of work may be used again for a new transaction; its locks are
    given back at both.
    """

    channels: repositories.ChannelRepository
    intents: repositories.IntentRepository
    events: repositories.PaymentEventRepository
    subscriptions: repositories.SubscriptionRepository
    grants: repositories.GrantRepository
    bundles: repositories.BundleRepository
    donations: repositories.DonationRepository
    audit: repositories.AuditLog
    outbox: repositories.OutboxRepository
    payments: PaymentLedger
    sellers: SellerRequestRepository
    people: repositories.PersonRepository
    trials: repositories.TrialRepository
    stars_renewals: StarsRenewalRepository
    figures: FigureRollup
    coupons: CouponRepository

    def __init__(self, store: InMemoryStore) -> None:
        self._store = store
        self._views: list[_Transactional] = []
        tables = PaymentTables(
            events=self._view(store.events),
            intents=self._view(store.intents),
            channels=self._view(store.channels),
            subscriptions=self._view(store.subscriptions),
            grants=self._view(store.grants),
            donations=self._view(store.donations),
        )
        self.channels = InMemoryChannelRepository(tables.channels)
        self.intents = InMemoryIntentRepository(tables.intents)
        self.events = InMemoryPaymentEventRepository(tables.events)
        self.subscriptions = InMemorySubscriptionRepository(tables.subscriptions)
        self.grants = InMemoryGrantRepository(tables.grants)
        self.bundles = InMemoryBundleRepository(
            self._view(store.bundle_members), self._view(store.bundle_grants)
        )
        self.donations = InMemoryDonationRepository(tables.donations)
        self._audit = InMemoryAuditLog(self._view(store.audit))
        self.audit = self._audit
        outbox = InMemoryOutboxRepository(self._view(store.outbox))
        self.outbox = outbox
        rollup = InMemoryFigureRollup(store.figures)
        self._views.append(rollup)
        self.figures = rollup
        self.payments = InMemoryPaymentLedger(tables, outbox, self._audit, rollup)
        seller_requests = self._view(store.seller_requests)
        self.sellers = InMemorySellerRequestRepository(seller_requests)
        trials = self._view(store.trials)
        self.trials = InMemoryTrialRepository(trials, tables.intents)
        stars_renewals = self._view(store.stars_renewals)
        self.stars_renewals = InMemoryStarsRenewalRepository(stars_renewals)
        redemptions = self._view(store.redemptions)
        self.people = InMemoryPersonRepository(
            PersonTables(
                tables.intents,
                tables.subscriptions,
                tables.grants,
                tables.donations,
                seller_requests,
                stars_renewals,
                trials,
                redemptions,
            )
        )
        self.coupons = InMemoryCouponRepository(self._view(store.coupons), redemptions)

    def _view(self, table: Table[_K, _V]) -> TableView[_K, _V]:
        view = TableView(table, self._store.locks, self, self._store.next_seq)
        self._views.append(view)
        return view

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(self, *_: object) -> None:
        await self.rollback()

    async def commit(self) -> None:
        try:
            await self._audit.flush()
            for view in self._views:
                view.validate()
        except Conflict:
            self._reset()
            raise
        for view in self._views:
            view.apply()
        self._reset()

    async def rollback(self) -> None:
        self._reset()

    def _reset(self) -> None:
        self._audit.transaction_ended()
        for view in self._views:
            view.reset()


class InMemoryUnitOfWorkFactory:
    """Implements UnitOfWorkFactory: every call opens a new unit of work over one store."""

    def __init__(self, store: InMemoryStore | None = None) -> None:
        self.store = store if store is not None else InMemoryStore()

    def __call__(self) -> InMemoryUnitOfWork:
        return InMemoryUnitOfWork(self.store)
