"""The dashboard's sessions and figures in process memory (tests, one process)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from decimal import Decimal

from adapters.outbound.memory.store import InMemoryStore
from adapters.outbound.memory.table import TableView
from core.domain.ids import ChannelId, UserId
from core.domain.subscription import SubscriptionStatus
from core.ports.clock import Clock
from core.ports.dashboard import DashboardSession, MonthlyRevenue


class InMemorySessionStore:
    """Implements SessionStore; a session is forgotten when its time to live is over."""

    def __init__(self, clock: Clock) -> None:
        self._clock = clock
        self._sessions: dict[str, tuple[DashboardSession, datetime]] = {}

    async def put(self, session: DashboardSession, ttl_seconds: int) -> None:
        if ttl_seconds < 1:
            raise ValueError("a session is kept for at least one second")
        until = self._clock.now() + timedelta(seconds=ttl_seconds)
        self._sessions[session.key] = (session, until)

    async def get(self, key: str) -> DashboardSession | None:
        found = self._sessions.get(key)
        if found is None:
            return None
        session, until = found
        if self._clock.now() >= until:
            del self._sessions[key]
            return None
        return session

    async def delete(self, key: str) -> None:
        self._sessions.pop(key, None)

    async def delete_user(self, user_id: UserId) -> int:
        now = self._clock.now()
        keys = [k for k, (s, until) in self._sessions.items() if s.user_id == user_id]
        live = sum(1 for k in keys if self._sessions[k][1] > now)
        for key in keys:
            del self._sessions[key]
        return live


class InMemoryChannelFigures:
    """Implements ChannelFigures over the committed rows of an InMemoryStore."""

    def __init__(self, store: InMemoryStore) -> None:
        self._store = store

    async def active_subscribers(
        self, channels: Sequence[ChannelId], now: datetime
    ) -> Mapping[ChannelId, int]:
        wanted = set(channels)
        view = TableView(self._store.subscriptions, self._store.locks, self, self._store.next_seq)
        counts: dict[ChannelId, int] = {}
        for sub in view.select(
            lambda s: (
                s.channel_id in wanted
                and s.status is SubscriptionStatus.ACTIVE
                and s.expires_at > now
            )
        ):
            counts[sub.channel_id] = counts.get(sub.channel_id, 0) + 1
        return counts

    async def monthly_revenue(
        self, channels: Sequence[ChannelId], since: datetime
    ) -> Sequence[MonthlyRevenue]:
        wanted = set(channels)
        view = TableView(self._store.intents, self._store.locks, self, self._store.next_seq)
        sums: dict[tuple[ChannelId, str, str], Decimal] = {}
        for intent in view.select(
            lambda i: (
                i.channel_id in wanted and i.fulfilled_at is not None and i.fulfilled_at >= since
            )
        ):
            assert intent.fulfilled_at is not None
            key = (intent.channel_id, intent.fulfilled_at.strftime("%Y-%m"), intent.price.currency)
            sums[key] = sums.get(key, Decimal(0)) + intent.price.amount
        return [MonthlyRevenue(c, m, cur, amount) for (c, m, cur), amount in sorted(sums.items())]
