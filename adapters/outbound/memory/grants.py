"""Access grants in memory: one per (subscription, period), so a grant is never issued twice."""

from __future__ import annotations

from collections.abc import Sequence

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

    async def add(self, grant: AccessGrant) -> bool:
        return await self._rows.insert_unless_taken(grant, "period")

    async def add_many(self, grants: Sequence[AccessGrant]) -> Sequence[bool]:
        # One by one in order: a later grant of a period finds the first one's write.
        with self._rows.statement():
            return [await self.add(grant) for grant in grants]

    async def get(self, grant_id: GrantId) -> AccessGrant:
        return self._rows.require(grant_id, "access grant")

    async def latest_for(self, subscription_id: SubscriptionId) -> AccessGrant | None:
        grants = self._rows.select(lambda g: g.subscription_id == subscription_id)
        return max(grants, key=lambda g: g.period, default=None)

    async def update(self, grant: AccessGrant) -> None:
        await self._rows.update(grant, "access grant")
