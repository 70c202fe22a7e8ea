"""The SQL unit of work: one connection, one transaction, rolled back unless committed.

On Postgres the transaction begins with the unit of work's first write: plain reads
before it run on their own (under READ COMMITTED each statement reads its own
snapshot, in a transaction or not), and a unit of work whose only write is its
held-back rows sends them as one statement, atomic by itself, with no BEGIN or
COMMIT (see ``SqlTransaction.send_behind``).

Repositories run SQLAlchemy Core statements on the unit of work's connection and
build domain objects from rows with explicit functions. There is no ORM session: no
identity map to expire after commit, nothing that could lazy-load later; what a
repository returns is a plain domain object, complete when returned.
"""

from __future__ import annotations

import asyncio
from typing import Self

from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from adapters.outbound.sqla.audit import SqlAuditLog
from adapters.outbound.sqla.bundles import SqlBundleRepository
from adapters.outbound.sqla.channels import SqlChannelRepository
from adapters.outbound.sqla.coupons import SqlCouponRepository
from adapters.outbound.sqla.donations import SqlDonationRepository
from adapters.outbound.sqla.engine import (
    SQLITE_BUSY_TIMEOUT_SECONDS,
    DatabaseTimeouts,
    busy_timeout,
)
from adapters.outbound.sqla.errors import translated
from adapters.outbound.sqla.events import SqlPaymentEventRepository
from adapters.outbound.sqla.figures import SqlFigureRollup
from adapters.outbound.sqla.grants import SqlGrantRepository
from adapters.outbound.sqla.intents import SqlIntentRepository
from adapters.outbound.sqla.outbox import SqlOutboxRepository
from adapters.outbound.sqla.payment_ledger import SqlPaymentLedger
from adapters.outbound.sqla.people import SqlPersonRepository
from adapters.outbound.sqla.seller_requests import SqlSellerRequestRepository
from adapters.outbound.sqla.stars_renewals import SqlStarsRenewalRepository
from adapters.outbound.sqla.subscriptions import SqlSubscriptionRepository
from adapters.outbound.sqla.transaction import SqlTransaction
from adapters.outbound.sqla.trials import SqlTrialRepository
from core.ports import repositories
from core.ports.coupons import CouponRepository
from core.ports.errors import Unavailable
from core.ports.figures import FigureRollup
from core.ports.payment_ledger import PaymentLedger
from core.ports.security import Cipher
from core.ports.sellers import SellerRequestRepository
from core.ports.stars_renewals import StarsRenewalRepository


class SqlUnitOfWork:
    def __init__(
        self,
        engine: AsyncEngine,
        cipher: Cipher,
        turns: asyncio.Lock | None = None,
        turn_wait: float = SQLITE_BUSY_TIMEOUT_SECONDS,
    ) -> None:
        self._engine = engine
        self._turns = turns
        self._turn_wait = turn_wait
        self._tx = SqlTransaction()
        self._conn: AsyncConnection | None = None
        channels = SqlChannelRepository(self._tx, cipher)
        intents = SqlIntentRepository(self._tx)
        subscriptions = SqlSubscriptionRepository(self._tx)
        self.channels: repositories.ChannelRepository = channels
        self.intents: repositories.IntentRepository = intents
        self.events: repositories.PaymentEventRepository = SqlPaymentEventRepository(self._tx)
        self.subscriptions: repositories.SubscriptionRepository = subscriptions
        self.grants: repositories.GrantRepository = SqlGrantRepository(self._tx)
        self.bundles: repositories.BundleRepository = SqlBundleRepository(self._tx)
        self.donations: repositories.DonationRepository = SqlDonationRepository(self._tx)
        self._audit = SqlAuditLog(self._tx)
        self.audit: repositories.AuditLog = self._audit
        self.outbox: repositories.OutboxRepository = SqlOutboxRepository(self._tx)
        rollup = SqlFigureRollup(self._tx)
        self.figures: FigureRollup = rollup
        self.payments: PaymentLedger = SqlPaymentLedger(
            self._tx, cipher, self._audit, channels, intents, subscriptions, rollup
        )
        self.sellers: SellerRequestRepository = SqlSellerRequestRepository(self._tx)
        self.people: repositories.PersonRepository = SqlPersonRepository(self._tx)
        self.trials: repositories.TrialRepository = SqlTrialRepository(self._tx)
        self.stars_renewals: StarsRenewalRepository = SqlStarsRenewalRepository(self._tx)
        self.coupons: CouponRepository = SqlCouponRepository(self._tx)

    async def __aenter__(self) -> Self:
        if self._conn is not None:
            raise RuntimeError("a unit of work is entered once")
        await self._take_turn()
        try:
            with translated("begin unit of work"):
                conn = await self._engine.connect()
                try:
                    await conn.begin()
                except BaseException:
                    await conn.close()
                    raise
        except BaseException:
            self._end_turn()
            raise
        self._conn = conn
        self._tx.attach(conn)
        return self

    async def _take_turn(self) -> None:
        if self._turns is None:
            return
        try:
            async with asyncio.timeout(self._turn_wait):
                await self._turns.acquire()
        except TimeoutError as exc:
            raise Unavailable("begin unit of work: the database is busy") from exc

    def _end_turn(self) -> None:
        if self._turns is not None:
            self._turns.release()

    async def __aexit__(self, exc_type: object, exc: object, tb: object) -> None:
        conn, self._conn = self._conn, None
        self._tx.attach(None)
        if conn is None:
            return
        try:
            with translated("end unit of work"):
                try:
                    if conn.in_transaction():
                        await conn.rollback()
                finally:
                    await conn.close()
        except Exception:
            # The body's own error says what went wrong; a failed rollback on a broken
            # connection (the server rolls back anyway) must not replace it.
            if exc is None:
                raise
        finally:
            self._end_turn()

    async def commit(self) -> None:
        try:
            await self._audit.flush()
            await self._tx.send_behind(last=True)
        finally:
            self._audit.transaction_ended()
            self._tx.behind.clear()
        with translated("commit"):
            await self._tx.conn.commit()

    async def rollback(self) -> None:
        self._audit.transaction_ended()
        self._tx.behind.clear()
        with translated("rollback"):
            await self._tx.conn.rollback()


class SqlUnitOfWorkFactory:
    """Makes units of work on one engine; the payout wallet goes through ``cipher``.

    On SQLite only one unit of work can hold the write lock. Left to SQLite, waiters
    poll with growing sleeps, and a process that commits and begins again at once (a
    worker draining the outbox) can starve the others (a webhook with a deadline).
    So units of work of this factory queue for their turn, first come first served;
    ``BEGIN IMMEDIATE`` still guards against other processes on the same file.
    """

    def __init__(
        self, engine: AsyncEngine, cipher: Cipher, timeouts: DatabaseTimeouts | None = None
    ) -> None:
        self._engine = engine
        self._cipher = cipher
        self._turn_wait = busy_timeout(timeouts)
        self._turns = asyncio.Lock() if engine.dialect.name == "sqlite" else None

    @property
    def engine(self) -> AsyncEngine:
        return self._engine

    def __call__(self) -> SqlUnitOfWork:
        return SqlUnitOfWork(self._engine, self._cipher, self._turns, self._turn_wait)
