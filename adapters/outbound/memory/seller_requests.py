"""Requests to sell here, in memory: one per Telegram user, decided once."""

from __future__ import annotations

from adapters.outbound.memory.table import Table, TableView
from core.domain.ids import UserId
from core.domain.seller import SellerRequest, SellerStatus


def seller_requests_table() -> Table[UserId, SellerRequest]:
    return Table("seller_requests", lambda r: r.user_id)


class InMemorySellerRequestRepository:
    """Implements SellerRequestRepository."""

    def __init__(self, rows: TableView[UserId, SellerRequest]) -> None:
        self._rows = rows

    async def get(self, user_id: UserId) -> SellerRequest | None:
        return self._rows.get(user_id)

    async def add(self, request: SellerRequest) -> bool:
        return await self._rows.insert_unless_taken(request)

    async def decide(self, request: SellerRequest) -> bool:
        return await self._rows.compare_and_set(
            request, "seller request", lambda stored: stored.status is SellerStatus.PENDING
        )

    async def update(self, request: SellerRequest) -> None:
        await self._rows.update(request, "seller request")
