"""How far behind the outbox is: what the metrics read at scrape time.

A read of its own, outside any unit of work, so a scrape never holds a transaction
the dispatchers wait for; counts only (no payload is read), so nothing about a
person leaves the database this way.
"""

from __future__ import annotations

from datetime import datetime

import attrs
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from adapters.outbound.sqla.errors import translated
from adapters.outbound.sqla.tables import outbox as t
from core.domain.outbox import OutboxStatus

__all__ = ["OutboxBacklog", "read_outbox_backlog"]


@attrs.frozen
class OutboxBacklog:
    pending: int
    """Messages not yet performed (due or waiting for a retry)."""
    oldest_age_seconds: float
    """How long the oldest pending message has waited since it was queued; 0 when none."""
    dead: int
    """Dead letters: messages given up on, waiting for an operator."""


_PENDING = select(func.count(), func.min(t.c.created_at)).where(
    t.c.status == OutboxStatus.PENDING.value
)
_DEAD = select(func.count()).select_from(t).where(t.c.status == OutboxStatus.DEAD.value)


async def read_outbox_backlog(engine: AsyncEngine, now: datetime) -> OutboxBacklog:
    """Raises Unavailable when the database does not answer."""
    with translated("read the outbox backlog"):
        async with engine.connect() as conn:
            pending, oldest = (await conn.execute(_PENDING)).one()
            dead = (await conn.execute(_DEAD)).scalar_one()
            await conn.rollback()
    if oldest is not None and oldest.tzinfo is None:
        # SQLite hands back a naive value from the aggregate (no column type on it).
        oldest = datetime.fromisoformat(str(oldest)).replace(tzinfo=now.tzinfo)
    age = 0.0 if oldest is None else max(0.0, (now - oldest).total_seconds())
    return OutboxBacklog(int(pending), age, int(dead))
