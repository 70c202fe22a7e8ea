"""The hash-chained audit log.

Appending reads the last event and writes the next one; two appenders doing that at
once would both chain onto the same event and fork the log. So appenders take
turns: on Postgres under a transaction-scoped advisory lock (held to commit, so the
next appender reads this event), on SQLite under the write lock every unit of work
already holds. The primary key on ``seq`` refuses a fork should anything slip by.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Row, func, insert, select

from adapters.outbound.sqla.tables import audit_events as t
from adapters.outbound.sqla.transaction import SqlTransaction
from core.domain.audit import AuditEvent, AuditRecord

AUDIT_LOCK_KEY = 0x5061_7947_6174_6541
"""The advisory lock that serialises appends on Postgres (any fixed 64-bit number)."""


def event_to_row(event: AuditEvent) -> dict[str, Any]:
    return {
        "seq": event.seq,
        "at": event.at,
        "actor": event.actor,
        "action": event.action,
        "subject": event.subject,
        "details": json.dumps(dict(event.details), sort_keys=True, ensure_ascii=False),
        "prev_hash": event.prev_hash,
        "hash": event.hash,
    }


def event_from_row(row: Row[Any]) -> AuditEvent:
    return AuditEvent(
        seq=row.seq,
        at=row.at,
        actor=row.actor,
        action=row.action,
        subject=row.subject,
        details=json.loads(row.details),
        prev_hash=row.prev_hash,
        hash=row.hash,
    )


class SqlAuditLog:
    """One per transaction. The first append takes the turn (the lock is held to the
    end of the transaction) and reads the tail; later appends in the same transaction
    chain onto the event this one wrote, without asking the database again."""

    def __init__(self, tx: SqlTransaction) -> None:
        self._tx = tx
        self._tail: AuditEvent | None = None
        self._holds_turn = False

    def transaction_ended(self) -> None:
        """The turn ends with the transaction: the next append asks again."""
        self._tail = None
        self._holds_turn = False

    async def append(self, record: AuditRecord, at: datetime) -> AuditEvent:
        if at.tzinfo is None:
            raise ValueError("audit times are timezone-aware")
        if not self._holds_turn:
            if self._tx.is_postgres:
                await self._tx.execute(
                    select(func.pg_advisory_xact_lock(AUDIT_LOCK_KEY)), "lock audit"
                )
            last = (
                await self._tx.execute(select(t).order_by(t.c.seq.desc()).limit(1), "read audit")
            ).first()
            self._tail = None if last is None else event_from_row(last)
            self._holds_turn = True
        # The hash covers the time as stored and read back (UTC), so verification of
        # the stored chain recomputes exactly the same digest.
        event = AuditEvent.chain(self._tail, at.astimezone(UTC), record)
        await self._tx.execute(insert(t).values(event_to_row(event)), "append audit event")
        self._tail = event
        return event

    async def all(self) -> Sequence[AuditEvent]:
        rows = await self._tx.execute(select(t).order_by(t.c.seq), "read audit")
        return [event_from_row(r) for r in rows]
