"""The dashboard's sessions and figures in process memory (tests, one process)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date, datetime, timedelta
from decimal import Decimal

from adapters.outbound.memory.store import InMemoryStore
from adapters.outbound.memory.table import TableView
from core.domain.figures import ALL_CHANNELS, DailyFigure, FigureKind
from core.domain.ids import ChannelId, UserId
from core.domain.subscription import SubscriptionStatus
from core.ports.clock import Clock
from core.ports.dashboard import (
    ChannelName,
    ChannelTotal,
    DashboardSession,
    DayTotal,
    FigureReads,
    FigureRows,
    MonthTotal,
)


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

    async def overview_rows(self, reads: FigureReads) -> FigureRows:
        return FigureRows(
            await self.by_day(reads.channels, reads.first_day),
            await self.by_month(reads.channels, reads.first_month),
            await self.by_channel(reads.shown, reads.first_day),
            await self.active_subscribers(reads.counted, reads.now),
        )

    async def active_subscribers(
        self, channels: Sequence[ChannelId] | None, now: datetime
    ) -> Mapping[ChannelId, int]:
        wanted = None if channels is None else set(channels)
        view = TableView(self._store.subscriptions, self._store.locks, self, self._store.next_seq)
        counts: dict[ChannelId, int] = {}
        for sub in view.select(
            lambda s: (
                (wanted is None or s.channel_id in wanted)
                and s.status is SubscriptionStatus.ACTIVE
                and s.expires_at > now
            )
        ):
            counts[sub.channel_id] = counts.get(sub.channel_id, 0) + 1
        return counts

    def _names(self, owner: UserId | None) -> list[ChannelName]:
        view = TableView(self._store.channels, self._store.locks, self, self._store.next_seq)
        found = view.select(lambda c: owner is None or c.owner_id == owner)
        return [ChannelName(c.id, c.title, c.owner_id) for c in found]

    async def names(self, owner: UserId) -> Sequence[ChannelName]:
        return self._names(owner)

    async def name_page(self, offset: int, limit: int) -> tuple[int, Sequence[ChannelName]]:
        every = sorted(self._names(None), key=lambda c: (c.title.casefold(), c.id))
        return len(every), every[offset : offset + limit]

    def _rows(
        self, channels: Sequence[ChannelId] | None, since: date, totals: bool
    ) -> list[DailyFigure]:
        """``channels``' rows; None: the totals' (``totals``) or every channel's."""
        if channels is not None:
            wanted = set(channels)
        else:
            wanted = (
                {ALL_CHANNELS} if totals else {k[0] for k in self._store.figures} - {ALL_CHANNELS}
            )
        return [
            DailyFigure(channel, day, currency, kind, amount, count)
            for (channel, day, currency, kind), (amount, count) in self._store.figures.items()
            if day >= since and channel in wanted
        ]

    async def by_day(self, channels: Sequence[ChannelId] | None, since: date) -> Sequence[DayTotal]:
        sums: dict[tuple[date, str, FigureKind], tuple[Decimal, int]] = {}
        for f in self._rows(channels, since, totals=True):
            amount, count = sums.get((f.day, f.currency, f.kind), (Decimal(0), 0))
            sums[(f.day, f.currency, f.kind)] = (amount + f.amount, count + f.count)
        return [DayTotal(*key, *value) for key, value in sorted(sums.items())]

    async def by_month(
        self, channels: Sequence[ChannelId] | None, since: date
    ) -> Sequence[MonthTotal]:
        sums: dict[tuple[str, str, FigureKind], tuple[Decimal, int]] = {}
        for f in self._rows(channels, since, totals=True):
            key = (f.day.strftime("%Y-%m"), f.currency, f.kind)
            amount, count = sums.get(key, (Decimal(0), 0))
            sums[key] = (amount + f.amount, count + f.count)
        return [MonthTotal(*key, *value) for key, value in sorted(sums.items())]

    async def by_channel(
        self, channels: Sequence[ChannelId] | None, since: date
    ) -> Sequence[ChannelTotal]:
        sums: dict[tuple[ChannelId, str, FigureKind], tuple[Decimal, int]] = {}
        for f in self._rows(channels, since, totals=False):
            key = (f.channel_id, f.currency, f.kind)
            amount, count = sums.get(key, (Decimal(0), 0))
            sums[key] = (amount + f.amount, count + f.count)
        return [ChannelTotal(*key, *value) for key, value in sorted(sums.items())]
