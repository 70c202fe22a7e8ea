"""Self-renewing Stars subscriptions, in memory: one row per first charge id."""

from __future__ import annotations

from collections.abc import Sequence

from adapters.outbound.memory.table import Table, TableView
from core.domain.ids import UserId
from core.domain.stars_renewal import StarsRenewal


def stars_renewals_table() -> Table[str, StarsRenewal]:
    return Table("stars_renewals", lambda r: r.charge_id)


class InMemoryStarsRenewalRepository:
    """Implements StarsRenewalRepository."""

    def __init__(self, rows: TableView[str, StarsRenewal]) -> None:
        self._rows = rows

    async def add(self, renewal: StarsRenewal) -> bool:
        return await self._rows.insert_unless_taken(renewal)

    async def get(self, charge_id: str) -> StarsRenewal | None:
        return self._rows.get(charge_id)

    async def of_user(self, user_id: UserId) -> Sequence[StarsRenewal]:
        found = self._rows.select(lambda r: r.user_id == user_id)
        return sorted(found, key=lambda r: r.started_at, reverse=True)

    async def cancel(self, renewal: StarsRenewal) -> bool:
        return await self._rows.compare_and_set(
            renewal, "Stars subscription", lambda stored: stored.canceled_at is None
        )
