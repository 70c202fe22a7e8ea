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
    """Implements AuditLog. An appender holds the chain's tail until its unit of work
    ends, as ``SELECT ... FOR UPDATE`` on the last event would: two racing appenders
    never both chain after the same event, so the chain never forks."""

    def __init__(self, rows: TableView[int, AuditEvent]) -> None:
        self._rows = rows

    async def append(self, record: AuditRecord, at: datetime) -> AuditEvent:
        at = require_utc(at, "the audit time")
        await self._rows.lock(_TAIL)
        event = AuditEvent.chain(self._rows.max_by(lambda e: e.seq), at, record)
        await self._rows.insert(event)
        return self._rows.require(event.seq, "audit event")

    async def all(self) -> Sequence[AuditEvent]:
        return self._rows.select(lambda e: True, order=lambda e: e.seq)
