"""The transactional outbox.

``claim`` selects due rows and pushes their ``available_at`` to the lease in the
unit of work's transaction: other claimers skip them until the lease runs out (a
crashed worker's claims come back then). On Postgres the select locks the rows it
takes and skips rows another claimer has locked (``FOR UPDATE SKIP LOCKED``), so
concurrent workers split the queue instead of waiting on each other; on SQLite the
unit of work holds the write lock from its first statement, so claims take turns.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Row, bindparam, func, select, update
from sqlalchemy.dialects import sqlite

from adapters.outbound.sqla.arrays import any_of
from adapters.outbound.sqla.tables import outbox as t
from adapters.outbound.sqla.transaction import SqlTransaction
from core.domain.ids import OutboxId
from core.domain.outbox import (
    Effect,
    OutboxMessage,
    OutboxStatus,
    effect_from_payload,
    effect_to_payload,
)
from core.ports.errors import NotFound


def message_from_row(row: Row[Any]) -> OutboxMessage:
    return OutboxMessage(
        id=OutboxId(str(row.id)),
        key=row.key,
        effect=effect_from_payload(row.kind, json.loads(row.payload)),
        created_at=row.created_at,
        available_at=row.available_at,
        status=OutboxStatus(row.status),
        attempts=row.attempts,
        last_error=row.last_error,
    )


def _row_id(message: OutboxMessage) -> int:
    if not (message.id.isascii() and message.id.isdigit()):
        raise NotFound(f"no outbox message {message.id}")
    return int(message.id)


_PAYLOAD = json.JSONEncoder(ensure_ascii=False)


def pending_row(key: str, effect: Effect, at: datetime) -> dict[str, Any]:
    return {
        "key": key,
        "kind": effect.kind.value,
        "payload": _PAYLOAD.encode(effect_to_payload(effect)),
        "created_at": at,
        "available_at": at,
        "status": OutboxStatus.PENDING.value,
        "attempts": 0,
        "last_error": None,
    }


_KEY = ("key",)

ENQUEUE_SQLITE = sqlite.insert(t).on_conflict_do_nothing(index_elements=list(_KEY))
"""Rows go in in order, so of copies of one key the first is queued."""

_LEASE_POSTGRES = update(t).where(any_of(t, "id", "ids")).values(available_at=bindparam("lease"))
"""The lease of any number of claimed rows in one statement of one text (an ``IN``
list of a large claim would pass Postgres' 32,767 parameters)."""

_LEASE_SQLITE_CHUNK = 500
"""Ids per ``IN`` list on SQLite, under the smallest variable limit SQLite builds
ship with (999)."""


class SqlOutboxRepository:
    def __init__(self, tx: SqlTransaction) -> None:
        self._tx = tx

    async def enqueue(self, key: str, effect: Effect, at: datetime) -> bool:
        row = pending_row(key, effect, at)
        return await self._tx.insert_once(t, row, _KEY, "enqueue outbox message")

    async def claim(
        self, now: datetime, limit: int, lease_until: datetime
    ) -> Sequence[OutboxMessage]:
        if lease_until <= now:
            raise ValueError("a lease ends after the claim")
        due = (
            select(t)
            .where(t.c.status == OutboxStatus.PENDING.value, t.c.available_at <= now)
            .order_by(t.c.available_at, t.c.id)
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
        messages = [message_from_row(r) for r in await self._tx.execute(due, "claim outbox")]
        if not messages:
            return []
        ids = [_row_id(m) for m in messages]
        if self._tx.is_postgres:
            params = {"ids": ids, "lease": lease_until}
            await self._tx.execute(_LEASE_POSTGRES, "lease outbox messages", params)
        else:
            for start in range(0, len(ids), _LEASE_SQLITE_CHUNK):
                chunk = ids[start : start + _LEASE_SQLITE_CHUNK]
                lease = update(t).where(t.c.id.in_(chunk)).values(available_at=lease_until)
                await self._tx.execute(lease, "lease outbox messages")
        for message in messages:
            message.available_at = lease_until
        return messages

    async def save(self, message: OutboxMessage) -> None:
        result = await self._tx.execute(
            update(t)
            .where(t.c.id == _row_id(message))
            .values(
                available_at=message.available_at,
                status=message.status.value,
                attempts=message.attempts,
                last_error=message.last_error,
            ),
            "save outbox message",
        )
        if result.rowcount == 0:
            raise NotFound(f"no outbox message {message.id}")

    async def get(self, key: str) -> OutboxMessage | None:
        row = (await self._tx.execute(select(t).where(t.c.key == key), "read outbox")).first()
        return None if row is None else message_from_row(row)

    async def pending_count(self) -> int:
        query = select(func.count()).select_from(t).where(t.c.status == OutboxStatus.PENDING.value)
        count = (await self._tx.execute(query, "count outbox")).scalar_one()
        return int(count)
