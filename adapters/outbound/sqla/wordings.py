"""Owners' own wording, in the database every process shares.

Like the language book, each call is one short statement of its own outside any unit
of work: the messengers read it for the messages that can carry an owner's text, and
no use case's transaction needs it. Staging and publishing are single statements, so
a draft staged while another is being published is never half applied.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import and_, delete, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncEngine

from adapters.outbound.sqla.errors import translated
from adapters.outbound.sqla.tables import channel_wordings as t
from adapters.outbound.sqla.turns import WriteTurns
from core.domain.ids import ChannelId, UserId
from core.ports.wordings import Wording, WordingKind

_KINDS = list(WordingKind)


class SqlWordingBook:
    """Implements WordingBook on the engine's database. Raises Unavailable when the
    database cannot be reached."""

    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine
        self._postgres = engine.dialect.name == "postgresql"
        self._turns = WriteTurns(engine)

    @staticmethod
    def _key(channel_id: ChannelId, kind: WordingKind, language: str) -> Any:
        return and_(
            t.c.channel_id == channel_id,
            t.c.kind == WordingKind(kind).value,
            t.c.language == language,
        )

    async def get(self, channel_id: ChannelId, kind: WordingKind, language: str) -> Wording | None:
        statement = select(t.c.text, t.c.author).where(self._key(channel_id, kind, language))
        with translated("read an owner's wording"):
            async with self._engine.connect() as conn:
                row = (await conn.execute(statement)).first()
        if row is None or row.text is None:
            return None
        return Wording(channel_id, kind, language, row.text, UserId(row.author))

    async def published(self, channel_id: ChannelId) -> list[Wording]:
        statement = select(t.c.kind, t.c.language, t.c.text, t.c.author).where(
            t.c.channel_id == channel_id, t.c.text.is_not(None)
        )
        with translated("list an owner's wording"):
            async with self._engine.connect() as conn:
                rows = (await conn.execute(statement)).all()
        found = [
            Wording(channel_id, row.kind, row.language, row.text, UserId(row.author))
            for row in rows
        ]
        return sorted(found, key=lambda w: (_KINDS.index(w.kind), w.language))

    async def stage(self, draft: Wording) -> None:
        insert = postgresql.insert(t) if self._postgres else sqlite.insert(t)
        values = {"draft": draft.text, "draft_author": draft.author}
        statement = insert.values(
            channel_id=draft.channel_id,
            kind=draft.kind.value,
            language=draft.language,
            failed=False,
            **values,
        ).on_conflict_do_update(
            index_elements=[t.c.channel_id, t.c.kind, t.c.language], set_=values
        )
        async with self._turns.transaction("stage an owner's wording") as conn:
            await conn.execute(statement)

    async def draft(
        self, channel_id: ChannelId, kind: WordingKind, language: str
    ) -> Wording | None:
        statement = select(t.c.draft, t.c.draft_author).where(self._key(channel_id, kind, language))
        with translated("read an owner's draft"):
            async with self._engine.connect() as conn:
                row = (await conn.execute(statement)).first()
        if row is None or row.draft is None:
            return None
        return Wording(channel_id, kind, language, row.draft, UserId(row.draft_author))

    async def publish(
        self, channel_id: ChannelId, kind: WordingKind, language: str
    ) -> Wording | None:
        statement = (
            update(t)
            .where(self._key(channel_id, kind, language), t.c.draft.is_not(None))
            .values(
                text=t.c.draft, author=t.c.draft_author, draft=None, draft_author=None, failed=False
            )
            .returning(t.c.text, t.c.author)
        )
        async with self._turns.transaction("publish an owner's wording") as conn:
            row = (await conn.execute(statement)).first()
        if row is None:
            return None
        return Wording(channel_id, kind, language, row.text, UserId(row.author))

    async def reset(self, channel_id: ChannelId, kind: WordingKind, language: str) -> bool:
        statement = delete(t).where(self._key(channel_id, kind, language)).returning(t.c.text)
        async with self._turns.transaction("reset an owner's wording") as conn:
            row = (await conn.execute(statement)).first()
        return row is not None and row.text is not None

    async def first_failure(self, channel_id: ChannelId, kind: WordingKind, language: str) -> bool:
        # One conditional update: of two processes failing at once, one is told yes.
        statement = (
            update(t)
            .where(
                self._key(channel_id, kind, language),
                t.c.text.is_not(None),
                t.c.failed.is_(False),
            )
            .values(failed=True)
        )
        async with self._turns.transaction("note an owner's wording failed") as conn:
            result = await conn.execute(statement)
        return bool(result.rowcount)
