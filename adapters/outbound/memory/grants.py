"""Access grants in memory: one per (subscription, period), so a grant is never issued twice."""

from __future__ import annotations

from adapters.outbound.memory.table import Table, TableView
from core.domain.grant import AccessGrant
from core.domain.ids import GrantId, SubscriptionId


def grants_table() -> Table[GrantId, AccessGrant]:
    return Table(
        "access_grants", lambda g: g.id, {"period": lambda g: ((g.subscription_id, g.period),)}
    )


class InMemoryGrantRepository:
    """Implements GrantRepository."""

    def __init__(self, rows: TableView[GrantId, AccessGrant]) -> None:
        self._rows = rows

    async def get(self, grant_id: GrantId) -> AccessGrant:
        return self._rows.require(grant_id, "access grant")

    async def latest_for(self, subscription_id: SubscriptionId) -> AccessGrant | None:
        grants = self._rows.select(lambda g: g.subscription_id == subscription_id)
        return max(grants, key=lambda g: g.period, default=None)

    async def update(self, grant: AccessGrant) -> None:
        await self._rows.update(grant, "access grant")
