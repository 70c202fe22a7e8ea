"""The transactional outbox in memory: unique keys, leased claims."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from adapters.outbound.memory.clock import require_utc
from adapters.outbound.memory.table import Table, TableView
from core.domain.ids import OutboxId
from core.domain.outbox import Effect, OutboxMessage, OutboxStatus


def outbox_table() -> Table[str, OutboxMessage]:
    return Table("outbox", lambda m: m.key, {"id": lambda m: (m.id,)})


class InMemoryOutboxRepository:
    """Implements OutboxRepository. A claim sets ``available_at`` to the lease's end and
    locks the claimed rows until the claimer's unit of work ends; other claimers skip
    locked rows (``FOR UPDATE SKIP LOCKED``), then, once committed, skip them because
    they are not due. A claim rolled back gives its messages back at once."""

    def __init__(self, rows: TableView[str, OutboxMessage]) -> None:
        self._rows = rows

    async def enqueue(self, key: str, effect: Effect, at: datetime) -> bool:
        at = require_utc(at, "the enqueue time")
        message_id = OutboxId(f"ob{self._rows.new_seq()}")
        return await self._rows.insert_unless_taken(OutboxMessage(message_id, key, effect, at, at))

    async def claim(
        self, now: datetime, limit: int, lease_until: datetime
    ) -> Sequence[OutboxMessage]:
        now = require_utc(now, "now")
        lease_until = require_utc(lease_until, "the lease's end")
        if lease_until <= now:
            raise ValueError("a lease ends after the claim")
        due = self._rows.select(
            lambda m: m.status == OutboxStatus.PENDING and m.available_at <= now,
            order=lambda m: m.available_at,
        )
        claimed: list[OutboxMessage] = []
        for message in due:
            if len(claimed) >= limit:
                break
            if not self._rows.try_lock(message.key):
                continue
            message.available_at = lease_until
            self._rows.replace(message, "outbox message")
            claimed.append(message)
        return claimed

    async def save(self, message: OutboxMessage) -> None:
        await self._rows.update(message, "outbox message")

    async def get(self, key: str) -> OutboxMessage | None:
        return self._rows.get(key)

    async def pending_count(self) -> int:
        return self._rows.count(lambda m: m.status == OutboxStatus.PENDING)
