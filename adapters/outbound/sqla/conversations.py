"""The bot's conversations in the database every process shares (SQLite or Postgres).

Each call is one short transaction of its own, outside any unit of work: a person's
step is not part of a use case's transaction, and must be written before the bot
answers even when the use case fails.

- ``put`` without a version is one upsert; with a version it is an ``UPDATE ... WHERE
  version = :seen``, so of two processes that read the same version exactly one
  writes (the row lock makes the second re-check and find the new version).
- ``take_expired`` is one ``DELETE ... RETURNING``: a deleted row is returned to the
  one transaction that deleted it. On Postgres its rows are picked with ``FOR UPDATE
  SKIP LOCKED``, so sweeps in several processes split the work instead of queueing;
  on SQLite the write lock taken at ``BEGIN IMMEDIATE`` makes them take turns.
"""

from __future__ import annotations

import asyncio
import json
import secrets
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta
from typing import Any

from sqlalchemy import Executable, Row, delete, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from adapters.outbound.sqla.errors import translated
from adapters.outbound.sqla.tables import conversations as t
from core.domain.ids import UserId
from core.ports.clock import Clock
from core.ports.conversations import (
    Conversation,
    StoredConversation,
    require_positive_limit,
    require_positive_ttl,
)


def _fields_json(conversation: Conversation) -> str:
    return json.dumps(
        conversation.as_dict(), ensure_ascii=False, separators=(",", ":"), sort_keys=True
    )


def _stored(row: Row[Any]) -> StoredConversation:
    return StoredConversation(
        user_id=UserId(int(row.user_id)),
        conversation=Conversation(row.step, json.loads(row.fields)),
        version=row.version,
        expires_at=row.expires_at,
    )


def _new_version() -> str:
    return secrets.token_hex(8)


class SqlConversationStore:
    """Implements ConversationStore on the engine's database. Raises Unavailable when
    the database cannot be reached."""

    def __init__(self, engine: AsyncEngine, clock: Clock) -> None:
        self._engine = engine
        self._clock = clock
        self._postgres = engine.dialect.name == "postgresql"
        # SQLite lets one writer in at a time and makes the others poll with growing
        # sleeps; this process's own calls queue here instead, first come first served.
        self._turns = None if self._postgres else asyncio.Lock()

    @asynccontextmanager
    async def _transaction(self, action: str) -> AsyncIterator[AsyncConnection]:
        if self._turns is None:
            with translated(action):
                async with self._engine.begin() as conn:
                    yield conn
            return
        async with self._turns:
            with translated(action):
                async with self._engine.begin() as conn:
                    yield conn

    async def get(self, user_id: UserId) -> StoredConversation | None:
        now = self._clock.now()
        statement = select(t).where(t.c.user_id == user_id, t.c.expires_at > now)
        async with self._transaction("read a conversation") as conn:
            row = (await conn.execute(statement)).first()
        return None if row is None else _stored(row)

    async def put(
        self,
        user_id: UserId,
        conversation: Conversation,
        ttl: timedelta,
        *,
        if_version: str | None = None,
    ) -> str | None:
        require_positive_ttl(ttl)
        now = self._clock.now()
        version = _new_version()
        values = {
            "step": conversation.step,
            "fields": _fields_json(conversation),
            "version": version,
            "expires_at": now + ttl,
        }
        if if_version is not None:
            statement: Executable = (
                update(t)
                .where(t.c.user_id == user_id, t.c.version == if_version, t.c.expires_at > now)
                .values(values)
            )
            async with self._transaction("move a conversation on") as conn:
                moved = (await conn.execute(statement)).rowcount
            return version if moved == 1 else None
        insert = postgresql.insert(t) if self._postgres else sqlite.insert(t)
        statement = insert.values(user_id=user_id, **values).on_conflict_do_update(
            index_elements=[t.c.user_id], set_=values
        )
        async with self._transaction("start a conversation") as conn:
            await conn.execute(statement)
        return version

    async def delete(self, user_id: UserId, *, if_version: str | None = None) -> bool:
        now = self._clock.now()
        statement = delete(t).where(t.c.user_id == user_id, t.c.expires_at > now)
        if if_version is not None:
            statement = statement.where(t.c.version == if_version)
        async with self._transaction("end a conversation") as conn:
            removed = (await conn.execute(statement)).rowcount
        return removed == 1

    async def take_expired(self, limit: int) -> list[StoredConversation]:
        require_positive_limit(limit)
        now = self._clock.now()
        due = (
            select(t.c.user_id)
            .where(t.c.expires_at <= now)
            .order_by(t.c.expires_at, t.c.user_id)
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
        statement = (
            delete(t)
            # Checked again on the row itself: one moved on since the pick is not due.
            .where(t.c.user_id.in_(due), t.c.expires_at <= now)
            .returning(*t.c)
        )
        async with self._transaction("take timed-out conversations") as conn:
            rows = (await conn.execute(statement)).all()
        return sorted(
            (_stored(row) for row in rows), key=lambda held: (held.expires_at, held.user_id)
        )
