"""Self-renewing Stars subscriptions: one row per first charge id; a cancellation is
a conditional update, so of two at once exactly one wins."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Row, select, update

from adapters.outbound.sqla.tables import stars_renewals as t
from adapters.outbound.sqla.transaction import SqlTransaction
from core.domain.ids import ChannelId, UserId
from core.domain.stars_renewal import StarsRenewal


def _row(renewal: StarsRenewal) -> dict[str, Any]:
    return {
        "charge_id": renewal.charge_id,
        "user_id": renewal.user_id,
        "channel_id": renewal.channel_id,
        "tier": renewal.tier,
        "started_at": renewal.started_at,
        "canceled_at": renewal.canceled_at,
    }


def _renewal(row: Row[Any]) -> StarsRenewal:
    return StarsRenewal(
        charge_id=row.charge_id,
        user_id=UserId(row.user_id),
        channel_id=ChannelId(row.channel_id),
        tier=row.tier,
        started_at=row.started_at,
        canceled_at=row.canceled_at,
    )


class SqlStarsRenewalRepository:
    def __init__(self, tx: SqlTransaction) -> None:
        self._tx = tx

    async def add(self, renewal: StarsRenewal) -> bool:
        return await self._tx.insert_once(
            t, _row(renewal), ("charge_id",), "add Stars subscription"
        )

    async def get(self, charge_id: str) -> StarsRenewal | None:
        query = select(t).where(t.c.charge_id == charge_id)
        row = (await self._tx.execute(query, "read Stars subscription", reads_only=True)).first()
        return None if row is None else _renewal(row)

    async def of_user(self, user_id: UserId) -> Sequence[StarsRenewal]:
        query = (
            select(t).where(t.c.user_id == user_id).order_by(t.c.started_at.desc(), t.c.charge_id)
        )
        result = await self._tx.execute(query, "read Stars subscriptions", reads_only=True)
        return [_renewal(row) for row in result]

    async def cancel(self, renewal: StarsRenewal) -> bool:
        result = await self._tx.execute(
            update(t)
            .where(t.c.charge_id == renewal.charge_id, t.c.canceled_at.is_(None))
            .values(canceled_at=renewal.canceled_at),
            "cancel Stars subscription",
        )
        return result.rowcount == 1
