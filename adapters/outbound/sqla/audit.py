"""The hash-chained audit log.

Chaining reads the last event and writes the next one; two appenders doing that at
once would both chain onto the same event and fork the log. So appenders take
turns, held to commit so the next appender reads this event. The primary key on
``seq`` refuses a fork should anything slip by.

The turn is one lock for the whole log, so every payment of every channel queues on
it: records are therefore kept in the unit of work and chained just before it
commits, which holds the turn for the end of the transaction only instead of from
the first append to the commit. On Postgres the turn is the row lock of
``audit_head`` (the chain's last seq and hash), taken by the unit of work's last
statement, which also hashes the records onto the head, inserts them and moves
the head, with the other held-back rows (see ``WriteBehind``). On SQLite, under the
write lock every unit of work already holds: read the tail, chain in Python, one
insert of all of them, commit.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Row, insert, select

from adapters.outbound.sqla.rows import row_of
from adapters.outbound.sqla.tables import audit_events as t
from adapters.outbound.sqla.transaction import SqlTransaction
from adapters.outbound.sqla.write_behind import digest_parts
from core.domain.audit import AuditEvent, AuditRecord

_DETAILS = json.JSONEncoder(sort_keys=True, ensure_ascii=False)


def details_text(details: Mapping[str, str]) -> str:
    """How an event's details are stored: a JSON object of strings."""
    return _DETAILS.encode(dict(details))


def event_to_row(event: AuditEvent) -> dict[str, Any]:
    return row_of(event, details=details_text(event.details))


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


_TAIL = select(t).order_by(t.c.seq.desc()).limit(1)
_ALL = select(t).order_by(t.c.seq)
_INSERT = insert(t)


class SqlAuditLog:
    """One per unit of work: appends wait in it until :meth:`flush`, which the unit of
    work calls right before committing."""

    def __init__(self, tx: SqlTransaction) -> None:
        self._tx = tx
        self._pending: list[tuple[AuditRecord, datetime]] = []

    def transaction_ended(self) -> None:
        """Records of a transaction that ended without a flush are dropped with it."""
        self._pending.clear()

    async def append(self, record: AuditRecord, at: datetime) -> None:
        if at.tzinfo is None:
            raise ValueError("audit times are timezone-aware")
        # The hash covers the time as stored and read back (UTC), so verification of
        # the stored chain recomputes exactly the same digest.
        self._pending.append((record, at.astimezone(UTC)))

    async def flush(self) -> None:
        """Take the turn (held to the end of the transaction) and chain the waiting
        records onto the tail: on Postgres they then wait to go with the unit of
        work's other held-back rows; on SQLite they are written in one statement."""
        if not self._pending:
            return
        if self._tx.is_postgres:
            await self._chain_behind()
            return
        last = (await self._tx.execute(_TAIL, "read audit")).first()
        tail = None if last is None else event_from_row(last)
        rows = []
        for record, at in self._pending:
            tail = AuditEvent.chain(tail, at, record)
            rows.append(event_to_row(tail))
        await self._tx.execute_many(_INSERT, rows, "append audit events")
        self._pending.clear()

    async def _chain_behind(self) -> None:
        rows = []
        for record, at in self._pending:
            before, after = digest_parts(at, record)
            rows.append(
                {
                    "at": at,
                    "actor": record.actor,
                    "action": record.action,
                    "subject": record.subject,
                    "details": details_text(record.details),
                    "before": before,
                    "after": after,
                }
            )
        self._tx.behind.hold(t.name, rows)
        self._pending.clear()

    async def all(self) -> Sequence[AuditEvent]:
        await self.flush()
        rows = await self._tx.execute(_ALL, "read audit")
        return [event_from_row(r) for r in rows]
