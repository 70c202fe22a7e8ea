"""The hash-chained audit log.

Chaining reads the last event and writes the next one; two appenders doing that at
once would both chain onto the same event and fork the log. So appenders take
turns: on Postgres under a transaction-scoped advisory lock (held to commit, so the
next appender reads this event), on SQLite under the write lock every unit of work
already holds. The primary key on ``seq`` refuses a fork should anything slip by.

The turn is one lock for the whole log, so every payment of every channel queues on
it: records are therefore kept in the unit of work and chained just before it
commits, which holds the turn for the end of the transaction only instead of from
the first append to the commit. On Postgres the turn is the row lock of
``audit_head`` (the chain's last seq and hash): updating it waits for the turn and
returns the newest committed head in one statement, and the events go with the
unit of work's other held-back rows, with the new head, in one more (see
``WriteBehind``). On SQLite: read the tail, one insert of all of them, commit.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Row, func, insert, literal, select, update
from sqlalchemy.dialects import postgresql

from adapters.outbound.sqla.tables import audit_events as t
from adapters.outbound.sqla.tables import audit_head
from adapters.outbound.sqla.transaction import SqlTransaction
from core.domain.audit import GENESIS_HASH, AuditEvent, AuditRecord


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


_TAIL = select(t).order_by(t.c.seq.desc()).limit(1)
# Touching the head takes the turn; after a wait it returns the head the previous
# appender committed (Postgres re-reads an updated row once its lock is free).
_TAKE_HEAD = (
    update(audit_head)
    .where(audit_head.c.id == 1)
    .values(seq=audit_head.c.seq)
    .returning(audit_head.c.seq, audit_head.c.hash)
)
# A database whose head row is missing (emptied by hand or by tests) gets it back
# from the stored events; of two units of work doing this at once, one inserts.
_SEED_HEAD = (
    postgresql.insert(audit_head)
    .from_select(
        ["id", "seq", "hash"],
        select(
            literal(1),
            func.coalesce(func.max(t.c.seq), 0),
            func.coalesce(_TAIL.with_only_columns(t.c.hash).scalar_subquery(), GENESIS_HASH),
        ),
    )
    .on_conflict_do_nothing(index_elements=["id"])
)
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
        behind = self._tx.behind
        if behind.head is not None:  # chained once already, not sent yet
            seq, last_hash = behind.head
        else:
            seq, last_hash = await self._take_head()
        rows = []
        for record, at in self._pending:
            event = AuditEvent.follow(seq, last_hash, at, record)
            rows.append(event_to_row(event))
            seq, last_hash = event.seq, event.hash
        behind.hold(t.name, rows)
        behind.head = (seq, last_hash)
        self._pending.clear()

    async def _take_head(self) -> tuple[int, str]:
        # Before the held rows (not after): they go with the events, in one statement.
        take = functools.partial(self._tx.execute, _TAKE_HEAD, "take the audit turn")
        head = (await take(after_held=False)).first()
        if head is None:
            await self._tx.execute(_SEED_HEAD, "seed the audit head", after_held=False)
            head = (await take(after_held=False)).first()
        if head is None:
            raise RuntimeError("the audit head row could not be created")
        return int(head.seq), str(head.hash)

    async def all(self) -> Sequence[AuditEvent]:
        await self.flush()
        rows = await self._tx.execute(_ALL, "read audit")
        return [event_from_row(r) for r in rows]
