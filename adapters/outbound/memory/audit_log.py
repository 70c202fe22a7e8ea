"""The audit trail in memory: append-only and hash-chained."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from adapters.outbound.memory.clock import require_utc
from adapters.outbound.memory.table import Table, TableView
from core.domain.audit import AuditEvent, AuditRecord

_TAIL = 0
"""The lock that serialises appenders (sequence numbers start at 1, so no row has it)."""


def audit_table() -> Table[int, AuditEvent]:
    return Table("audit_events", lambda e: e.seq)


class InMemoryAuditLog:
    """Implements AuditLog. Appends wait in the unit of work; at commit (:meth:`flush`)
    the appender takes the chain's tail and holds it until its unit of work ends, as
    the SQL adapter's lock does: two racing appenders never both chain after the same
    event, so the chain never forks."""

    def __init__(self, rows: TableView[int, AuditEvent]) -> None:
        self._rows = rows
        self._pending: list[tuple[AuditRecord, datetime]] = []

    async def append(self, record: AuditRecord, at: datetime) -> None:
        self._pending.append((record, require_utc(at, "the audit time")))

    async def flush(self) -> None:
        if not self._pending:
            return
        await self._rows.lock(_TAIL)
        tail = self._rows.newest()  # append-only: the newest event is the tail
        for record, at in self._pending:
            tail = AuditEvent.chain(tail, at, record)
            await self._rows.insert(tail)
        self._pending.clear()

    def transaction_ended(self) -> None:
        self._pending.clear()

    async def all(self) -> Sequence[AuditEvent]:
        await self.flush()
        return self._rows.select(lambda e: True, order=lambda e: e.seq)
