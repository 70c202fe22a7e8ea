"""The recent alerts in the database every process shares, for the dashboard. Each
write is one short transaction that also forgets the alerts past the history, so the
table stays bounded without a sweep of its own."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import timedelta

from sqlalchemy import delete, insert, select
from sqlalchemy.ext.asyncio import AsyncEngine

from adapters.outbound.sqla.errors import translated
from adapters.outbound.sqla.tables import dashboard_alerts as t
from adapters.outbound.sqla.turns import WriteTurns
from core.domain.ids import ChannelId
from core.ports.alert_log import RecordedAlert
from core.ports.alerts import Severity

DEFAULT_HISTORY = timedelta(days=30)
_DETAILS = json.JSONEncoder(sort_keys=True, ensure_ascii=False)


class SqlAlertLog:
    """Implements AlertLog. Raises Unavailable when the database cannot be reached."""

    def __init__(self, engine: AsyncEngine, history: timedelta = DEFAULT_HISTORY) -> None:
        if history <= timedelta(0):
            raise ValueError("the alert history is kept for a positive time")
        self._engine = engine
        self._history = history
        self._turns = WriteTurns(engine)

    async def record(self, alert: RecordedAlert) -> None:
        row = {
            "at": alert.at,
            "severity": alert.severity.value,
            "title": alert.title,
            "key": alert.key,
            "channel_id": alert.channel_id,
            "details": _DETAILS.encode(dict(alert.details)),
        }
        async with self._turns.transaction("record an alert") as conn:
            await conn.execute(delete(t).where(t.c.at < alert.at - self._history))
            await conn.execute(insert(t).values(**row))

    async def recent(
        self, channels: Sequence[ChannelId] | None, limit: int
    ) -> Sequence[RecordedAlert]:
        query = select(t)
        if channels is not None:
            if not channels:
                return []
            query = query.where(t.c.channel_id.in_(list(channels)))
        query = query.order_by(t.c.at.desc(), t.c.id.desc()).limit(max(limit, 0))
        with translated("read the recent alerts"):
            async with self._engine.connect() as conn:
                rows = (await conn.execute(query)).all()
        return [
            RecordedAlert(
                at=row.at,
                severity=Severity(row.severity),
                title=row.title,
                key=row.key,
                channel_id=None if row.channel_id is None else ChannelId(row.channel_id),
                details=json.loads(row.details),
            )
            for row in rows
        ]
