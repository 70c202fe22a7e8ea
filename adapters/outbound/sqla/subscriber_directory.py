"""The dashboard's subscriber directory and the people's usernames, in the database
every process shares.

Each call is one short statement outside any unit of work. A page is a keyset page
over (``expires_at``, ``id``) descending, each form served by an index that holds
the order (migration 0011): a channel by status or not, every channel by status or
not, a person by the (user, channel) key. An owner's channels are read one index
range each, at most a page from each, and merged here: a page costs the same at any
depth and however many subscribers the other channels have.
"""

from __future__ import annotations

import heapq
from collections.abc import Sequence
from typing import Any

from sqlalchemy import Select, bindparam, delete, select, tuple_
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncEngine

from adapters.outbound.sqla.audit import event_from_row
from adapters.outbound.sqla.errors import translated
from adapters.outbound.sqla.subscriptions import subscription_from_row
from adapters.outbound.sqla.tables import audit_events, person_names, subscriptions
from adapters.outbound.sqla.turns import WriteTurns
from core.domain.audit import AuditEvent
from core.domain.ids import UserId
from core.ports.subscriber_directory import (
    DirectoryQuery,
    SubscriberKey,
    SubscriberRow,
    folded_username,
)

_MERGED_CHANNELS = 50
"""Up to this many channels are read one range each and merged; more (an owner of
very many) are read in one statement."""


class SqlPersonNames:
    """Implements PersonNames. Raises Unavailable when the database cannot be reached."""

    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine
        self._postgres = engine.dialect.name == "postgresql"
        self._turns = WriteTurns(engine)

    async def note(self, user_id: UserId, username: str | None) -> None:
        t = person_names
        if username is None:
            await self.forget(user_id)
            return
        folded = folded_username(username)
        if folded is None:
            raise ValueError(f"not a Telegram username: {username[:40]!r}")
        insert = postgresql.insert(t) if self._postgres else sqlite.insert(t)
        statement = insert.values(user_id=user_id, username=folded).on_conflict_do_update(
            index_elements=[t.c.user_id], set_={"username": folded}
        )
        async with self._turns.transaction("keep a person's username") as conn:
            # Telegram gives a username to one account at a time: whoever showed it
            # before has let it go.
            await conn.execute(delete(t).where(t.c.username == folded, t.c.user_id != user_id))
            await conn.execute(statement)

    async def name_of(self, user_id: UserId) -> str | None:
        t = person_names
        with translated("read a person's username"):
            async with self._engine.connect() as conn:
                found = await conn.execute(select(t.c.username).where(t.c.user_id == user_id))
                return found.scalar_one_or_none()

    async def forget(self, user_id: UserId) -> bool:
        t = person_names
        async with self._turns.transaction("forget a person's username") as conn:
            result = await conn.execute(delete(t).where(t.c.user_id == user_id))
        return result.rowcount > 0


class SqlSubscriberDirectory:
    """Implements SubscriberDirectory. Raises Unavailable."""

    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine

    async def page(
        self, query: DirectoryQuery, after: SubscriberKey | None, limit: int
    ) -> Sequence[SubscriberRow]:
        if query.users == () or query.channels == () or limit < 1:
            return []
        if (
            query.channels is None
            or query.users is not None
            or len(query.channels) > _MERGED_CHANNELS
        ):
            statements = [self._statement(query, query.channels, after, limit)]
        else:
            statements = [self._statement(query, (c,), after, limit) for c in query.channels]
        rows: list[Any] = []
        with translated("find subscribers"):
            async with self._engine.connect() as conn:
                for statement in statements:
                    rows.append(list((await conn.execute(statement)).all()))
        merged = heapq.merge(*rows, key=lambda r: (r.expires_at, r.id), reverse=True)
        return [
            SubscriberRow(subscription_from_row(row), row.username)
            for _, row in zip(range(limit), merged, strict=False)
        ]

    def _statement(
        self,
        query: DirectoryQuery,
        channels: Sequence[str] | None,
        after: SubscriberKey | None,
        limit: int,
    ) -> Select[Any]:
        s, n = subscriptions, person_names
        statement = select(s, n.c.username).select_from(s.outerjoin(n, n.c.user_id == s.c.user_id))
        if channels is not None:
            if len(channels) == 1:
                statement = statement.where(s.c.channel_id == channels[0])
            else:
                statement = statement.where(s.c.channel_id.in_(list(channels)))
        if query.status is not None:
            statement = statement.where(s.c.status == query.status.value)
        if query.users is not None:
            statement = statement.where(s.c.user_id.in_(list(query.users)))
        if after is not None:
            at, last_id = after
            # A row-value comparison, where the index scan starts (see the expiry sweep's).
            statement = statement.where(
                tuple_(s.c.expires_at, s.c.id)
                < tuple_(
                    bindparam(None, at, type_=s.c.expires_at.type),
                    bindparam(None, last_id, type_=s.c.id.type),
                )
            )
        return statement.order_by(s.c.expires_at.desc(), s.c.id.desc()).limit(limit)

    async def users_named(self, username: str) -> Sequence[UserId]:
        t = person_names
        statement = select(t.c.user_id).where(t.c.username == username).order_by(t.c.user_id)
        with translated("find a username"):
            async with self._engine.connect() as conn:
                return [UserId(u) for u in (await conn.execute(statement)).scalars()]

    async def audit_about(self, subjects: Sequence[str], limit: int) -> Sequence[AuditEvent]:
        if not subjects or limit < 1:
            return []
        t = audit_events
        statement = (
            select(t).where(t.c.subject.in_(list(subjects))).order_by(t.c.seq.desc()).limit(limit)
        )
        with translated("read a subscriber's audit trail"):
            async with self._engine.connect() as conn:
                return [event_from_row(r) for r in await conn.execute(statement)]
