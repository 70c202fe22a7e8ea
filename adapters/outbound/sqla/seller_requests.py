"""Requests to sell here: one row per Telegram user, decided once (a conditional
update, so of two operators deciding at once exactly one wins)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Row, select, update

from adapters.outbound.sqla.tables import seller_requests as t
from adapters.outbound.sqla.transaction import SqlTransaction
from core.domain.ids import UserId
from core.domain.seller import SellerRequest, SellerStatus
from core.ports.errors import NotFound


def request_to_row(request: SellerRequest) -> dict[str, Any]:
    return {
        "user_id": request.user_id,
        "name": request.name,
        "asked_at": request.asked_at,
        "status": request.status.value,
        "decided_by": request.decided_by,
        "decided_at": request.decided_at,
    }


def request_from_row(row: Row[Any]) -> SellerRequest:
    return SellerRequest(
        user_id=UserId(row.user_id),
        name=row.name,
        asked_at=row.asked_at,
        status=SellerStatus(row.status),
        decided_by=None if row.decided_by is None else UserId(row.decided_by),
        decided_at=row.decided_at,
    )


class SqlSellerRequestRepository:
    def __init__(self, tx: SqlTransaction) -> None:
        self._tx = tx

    async def get(self, user_id: UserId) -> SellerRequest | None:
        query = select(t).where(t.c.user_id == user_id)
        row = (await self._tx.execute(query, "read seller request", reads_only=True)).first()
        return None if row is None else request_from_row(row)

    async def add(self, request: SellerRequest) -> bool:
        return await self._tx.insert_once(
            t, request_to_row(request), ("user_id",), "add seller request"
        )

    async def decide(self, request: SellerRequest) -> bool:
        row = request_to_row(request)
        del row["user_id"]
        result = await self._tx.execute(
            update(t)
            .where(t.c.user_id == request.user_id, t.c.status == SellerStatus.PENDING.value)
            .values(row),
            "decide seller request",
        )
        return result.rowcount == 1

    async def update(self, request: SellerRequest) -> None:
        row = request_to_row(request)
        del row["user_id"]
        result = await self._tx.execute(
            update(t).where(t.c.user_id == request.user_id).values(row), "update seller request"
        )
        if result.rowcount == 0:
            raise NotFound(f"no seller request of user {request.user_id}")
