"""The dashboard's sessions and figures in the database every process shares.

Sessions are used when Redis is not configured; each call is one short statement
outside any unit of work. A session row carries its own expiry, so a row nobody
deletes is never read back after it and is cleared on the next login of anyone.
The figures are grouped reads of the daily rollup the write path keeps
(``daily_figures``) and a count of active subscriptions, never a scan of payments.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping, Sequence
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import ColumnElement, delete, func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from adapters.outbound.sqla.errors import translated
from adapters.outbound.sqla.tables import channels as channels_table
from adapters.outbound.sqla.tables import daily_figures as f
from adapters.outbound.sqla.tables import dashboard_sessions as t
from adapters.outbound.sqla.tables import subscriptions
from adapters.outbound.sqla.turns import WriteTurns
from core.domain.figures import ALL_CHANNELS, FigureKind
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


class SqlSessionStore:
    """Implements SessionStore. Raises Unavailable when the database cannot be reached."""

    def __init__(self, engine: AsyncEngine, clock: Clock) -> None:
        self._engine = engine
        self._clock = clock
        self._turns = WriteTurns(engine)

    async def put(self, session: DashboardSession, ttl_seconds: int) -> None:
        if ttl_seconds < 1:
            raise ValueError("a session is kept for at least one second")
        now = self._clock.now()
        values = {
            "user_id": session.user_id,
            "csrf": session.csrf,
            "created_at": session.created_at,
            "last_seen": session.last_seen,
            "expires_at": now + timedelta(seconds=ttl_seconds),
        }
        async with self._turns.transaction("keep a dashboard session") as conn:
            await conn.execute(delete(t).where(t.c.key == session.key))
            await conn.execute(delete(t).where(t.c.expires_at <= now))
            await conn.execute(t.insert().values(key=session.key, **values))

    async def get(self, key: str) -> DashboardSession | None:
        statement = select(t).where(t.c.key == key, t.c.expires_at > self._clock.now())
        with translated("read a dashboard session"):
            async with self._engine.connect() as conn:
                row = (await conn.execute(statement)).first()
        if row is None:
            return None
        return DashboardSession(
            row.key, UserId(row.user_id), row.csrf, row.created_at, row.last_seen
        )

    async def delete(self, key: str) -> None:
        async with self._turns.transaction("end a dashboard session") as conn:
            await conn.execute(delete(t).where(t.c.key == key))

    async def delete_user(self, user_id: UserId) -> int:
        now = self._clock.now()
        async with self._turns.transaction("end a user's dashboard sessions") as conn:
            live = await conn.execute(
                select(func.count()).where(t.c.user_id == user_id, t.c.expires_at > now)
            )
            count = int(live.scalar_one())
            await conn.execute(delete(t).where(t.c.user_id == user_id))
        return count


class SqlChannelFigures:
    """Implements ChannelFigures: grouped reads of the daily rollup (Postgres adds up
    in SQL; SQLite stores amounts as exact text, so its rows are added here) and a
    count of the active subscriptions."""

    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine

    async def overview_rows(self, reads: FigureReads) -> FigureRows:
        """On Postgres the four reads run side by side, each on a connection of its
        own from the pool (an overview is as slow as its slowest read, not their
        sum); on SQLite one after another. A failed read fails the whole (the first
        failure is raised, as :class:`~core.ports.errors.Unavailable` when it is one)
        and the others are cancelled."""
        days = self.by_day(reads.channels, reads.first_day)
        months = self.by_month(reads.channels, reads.first_month)
        lines = self.by_channel(reads.shown, reads.first_day)
        active = self.active_subscribers(reads.counted, reads.now)
        if self._engine.dialect.name != "postgresql":
            return FigureRows(await days, await months, await lines, await active)
        try:
            async with asyncio.TaskGroup() as group:
                by_day, by_month = group.create_task(days), group.create_task(months)
                by_channel, counted = group.create_task(lines), group.create_task(active)
        except ExceptionGroup as failed:
            raise failed.exceptions[0] from None
        return FigureRows(by_day.result(), by_month.result(), by_channel.result(), counted.result())

    async def active_subscribers(
        self, channels: Sequence[ChannelId] | None, now: datetime
    ) -> Mapping[ChannelId, int]:
        if channels is not None and not channels:
            return {}
        s = subscriptions
        statement = (
            select(s.c.channel_id, func.count())
            .where(s.c.status == SubscriptionStatus.ACTIVE.value, s.c.expires_at > now)
            .group_by(s.c.channel_id)
        )
        if channels is not None:
            statement = statement.where(s.c.channel_id.in_(list(channels)))
        with translated("count active subscribers"):
            async with self._engine.connect() as conn:
                rows = (await conn.execute(statement)).all()
        return {ChannelId(row[0]): int(row[1]) for row in rows}

    async def names(self, owner: UserId) -> Sequence[ChannelName]:
        c = channels_table
        statement = select(c.c.id, c.c.title, c.c.owner_id).where(c.c.owner_id == owner)
        with translated("list channels"):
            async with self._engine.connect() as conn:
                rows = (await conn.execute(statement)).all()
        return [ChannelName(ChannelId(r.id), r.title, UserId(r.owner_id)) for r in rows]

    async def name_page(self, offset: int, limit: int) -> tuple[int, Sequence[ChannelName]]:
        c = channels_table
        page = (
            select(c.c.id, c.c.title, c.c.owner_id)
            .order_by(func.lower(c.c.title), c.c.id)
            .offset(offset)
            .limit(limit)
        )
        with translated("list channels"):
            async with self._engine.connect() as conn:
                total = int((await conn.execute(select(func.count()).select_from(c))).scalar_one())
                rows = (await conn.execute(page)).all()
        return total, [ChannelName(ChannelId(r.id), r.title, UserId(r.owner_id)) for r in rows]

    async def by_day(self, channels: Sequence[ChannelId] | None, since: date) -> Sequence[DayTotal]:
        wanted = [ALL_CHANNELS] if channels is None else channels
        sums = await self._sums(f.c.day, wanted, since, "read the daily figures")
        return [
            DayTotal(day, cur, kind, amount, count) for (day, cur, kind), (amount, count) in sums
        ]

    async def by_month(
        self, channels: Sequence[ChannelId] | None, since: date
    ) -> Sequence[MonthTotal]:
        wanted = [ALL_CHANNELS] if channels is None else channels
        if self._engine.dialect.name == "postgresql":
            month = func.to_char(f.c.day, "YYYY-MM")
        else:  # a date is its ISO text on SQLite
            month = func.substr(f.c.day, 1, 7)
        sums = await self._sums(month, wanted, since, "read the monthly figures")
        return [
            MonthTotal(str(m), cur, kind, amount, count) for (m, cur, kind), (amount, count) in sums
        ]

    async def by_channel(
        self, channels: Sequence[ChannelId] | None, since: date
    ) -> Sequence[ChannelTotal]:
        sums = await self._sums(f.c.channel_id, channels, since, "read the channels' figures")
        return [
            ChannelTotal(ChannelId(channel), cur, kind, amount, count)
            for (channel, cur, kind), (amount, count) in sums
        ]

    async def _sums(
        self,
        by: ColumnElement[Any],
        channels: Sequence[ChannelId] | None,
        since: date,
        action: str,
    ) -> list[tuple[tuple[Any, str, FigureKind], tuple[Decimal, int]]]:
        if channels is not None and not channels:
            return []
        postgres = self._engine.dialect.name == "postgresql"
        group = (by, f.c.currency, f.c.kind)
        if postgres:
            statement = select(*group, func.sum(f.c.amount), func.sum(f.c.count)).group_by(*group)
        else:
            statement = select(*group, f.c.amount, f.c.count)
        statement = statement.where(f.c.day >= since)
        if channels is None:
            statement = statement.where(f.c.channel_id != ALL_CHANNELS)
        else:
            statement = statement.where(f.c.channel_id.in_(list(channels)))
        with translated(action):
            async with self._engine.connect() as conn:
                rows = (await conn.execute(statement)).all()
        sums: dict[tuple[Any, str, FigureKind], tuple[Decimal, int]] = {}
        for key_by, currency, kind, amount, count in rows:
            key = (key_by, currency, FigureKind(kind))
            before = sums.get(key, (Decimal(0), 0))
            sums[key] = (before[0] + Decimal(amount), before[1] + int(count))
        return sorted(sums.items())
