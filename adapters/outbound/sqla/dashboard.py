"""The dashboard's sessions and figures in the database every process shares.

Sessions are used when Redis is not configured; each call is one short statement
outside any unit of work. A session row carries its own expiry, so a row nobody
deletes is never read back after it and is cleared on the next login of anyone.
The figures are two grouped reads over indexed columns (subscriptions by channel,
fulfilled payments by channel and time); months are formed here, portably.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from decimal import Decimal

from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from adapters.outbound.sqla.errors import translated
from adapters.outbound.sqla.tables import dashboard_sessions as t
from adapters.outbound.sqla.tables import payment_intents, subscriptions
from adapters.outbound.sqla.turns import WriteTurns
from core.domain.ids import ChannelId, UserId
from core.domain.subscription import SubscriptionStatus
from core.ports.clock import Clock
from core.ports.dashboard import DashboardSession, MonthlyRevenue


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
    """Implements ChannelFigures."""

    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine

    async def active_subscribers(
        self, channels: Sequence[ChannelId], now: datetime
    ) -> Mapping[ChannelId, int]:
        if not channels:
            return {}
        s = subscriptions
        statement = (
            select(s.c.channel_id, func.count())
            .where(
                s.c.channel_id.in_(list(channels)),
                s.c.status == SubscriptionStatus.ACTIVE.value,
                s.c.expires_at > now,
            )
            .group_by(s.c.channel_id)
        )
        with translated("count active subscribers"):
            async with self._engine.connect() as conn:
                rows = (await conn.execute(statement)).all()
        return {ChannelId(row[0]): int(row[1]) for row in rows}

    async def monthly_revenue(
        self, channels: Sequence[ChannelId], since: datetime
    ) -> Sequence[MonthlyRevenue]:
        if not channels:
            return []
        i = payment_intents
        statement = select(i.c.channel_id, i.c.fulfilled_at, i.c.currency, i.c.price).where(
            i.c.channel_id.in_(list(channels)), i.c.fulfilled_at >= since
        )
        sums: dict[tuple[ChannelId, str, str], Decimal] = {}
        with translated("sum the takings"):
            async with self._engine.connect() as conn:
                rows = (await conn.execute(statement)).all()
        for channel_id, fulfilled_at, currency, price in rows:
            key = (ChannelId(channel_id), fulfilled_at.strftime("%Y-%m"), currency)
            sums[key] = sums.get(key, Decimal(0)) + Decimal(price)
        return [MonthlyRevenue(c, m, cur, amount) for (c, m, cur), amount in sorted(sums.items())]
