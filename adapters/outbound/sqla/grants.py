"""Access grants: one per (subscription, period), so a grant is never issued twice."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Row, select, update

from adapters.outbound.sqla.rows import row_of
from adapters.outbound.sqla.tables import access_grants as t
from adapters.outbound.sqla.transaction import SqlTransaction
from core.domain.grant import AccessGrant, GrantMode, GrantStatus
from core.domain.ids import ChannelId, GrantId, SubscriptionId, UserId
from core.ports.errors import NotFound


def grant_to_row(grant: AccessGrant) -> dict[str, Any]:
    return row_of(grant, mode=grant.mode.value, status=grant.status.value)


def grant_from_row(row: Row[Any]) -> AccessGrant:
    return AccessGrant(
        id=GrantId(row.id),
        subscription_id=SubscriptionId(row.subscription_id),
        user_id=UserId(row.user_id),
        channel_id=ChannelId(row.channel_id),
        period=row.period,
        mode=GrantMode(row.mode),
        created_at=row.created_at,
        status=GrantStatus(row.status),
        invite_link=row.invite_link,
        link_expires_at=row.link_expires_at,
    )


_KEY = ("subscription_id", "period")


class SqlGrantRepository:
    def __init__(self, tx: SqlTransaction) -> None:
        self._tx = tx

    async def get(self, grant_id: GrantId) -> AccessGrant:
        row = (await self._tx.execute(select(t).where(t.c.id == grant_id), "read grant")).first()
        if row is None:
            raise NotFound(f"no access grant {grant_id}")
        return grant_from_row(row)

    async def latest_for(self, subscription_id: SubscriptionId) -> AccessGrant | None:
        query = (
            select(t)
            .where(t.c.subscription_id == subscription_id)
            .order_by(t.c.period.desc())
            .limit(1)
        )
        row = (await self._tx.execute(query, "read grant")).first()
        return None if row is None else grant_from_row(row)

    async def update(self, grant: AccessGrant) -> None:
        row = grant_to_row(grant)
        del row["id"]
        result = await self._tx.execute(
            update(t).where(t.c.id == grant.id).values(row), "update access grant"
        )
        if result.rowcount == 0:
            raise NotFound(f"no access grant {grant.id}")
