"""Trial records: one row per person and channel, ever (the primary key is the rule)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import exists, func, select

from adapters.outbound.sqla.tables import payment_intents, trials
from adapters.outbound.sqla.transaction import SqlTransaction
from core.domain.ids import ChannelId, UserId


class SqlTrialRepository:
    """Implements TrialRepository."""

    def __init__(self, tx: SqlTransaction) -> None:
        self._tx = tx

    async def add(self, channel_id: ChannelId, user_id: UserId, at: datetime) -> bool:
        row = {"channel_id": channel_id, "user_id": user_id, "taken_at": at}
        return await self._tx.insert_once(trials, row, None, "record trial")

    async def taken(self, channel_id: ChannelId, user_id: UserId) -> bool:
        query = select(
            exists().where(trials.c.channel_id == channel_id, trials.c.user_id == user_id)
        )
        return bool((await self._tx.execute(query, "read trial")).scalar())

    async def paid_before(self, channel_id: ChannelId, user_id: UserId) -> bool:
        i = payment_intents
        query = select(
            exists().where(
                i.c.channel_id == channel_id,
                i.c.user_id == user_id,
                i.c.fulfilled_at.is_not(None),
            )
        )
        return bool((await self._tx.execute(query, "read payments of a person")).scalar())

    async def count(self, channel_id: ChannelId) -> int:
        query = select(func.count()).select_from(trials).where(trials.c.channel_id == channel_id)
        return int((await self._tx.execute(query, "count trials")).scalar() or 0)
