"""The language each chat reads, in the database every process shares.

Each call is one short statement of its own, outside any unit of work: the bot reads
it for every update and the messengers for every send, and neither is part of a use
case's transaction. A note is one ``INSERT ... ON CONFLICT DO UPDATE ... WHERE NOT
chosen``, so a note racing a choice can never undo it.
"""

from __future__ import annotations

from sqlalchemy import delete, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncEngine

from adapters.outbound.sqla.errors import translated
from adapters.outbound.sqla.tables import chat_languages as t
from adapters.outbound.sqla.turns import WriteTurns
from core.domain.ids import ChatId
from core.ports.languages import ChatLanguage, language_code


class SqlLanguageBook:
    """Implements LanguageBook on the engine's database. Raises Unavailable when the
    database cannot be reached."""

    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine
        self._postgres = engine.dialect.name == "postgresql"
        self._turns = WriteTurns(engine)

    async def get(self, chat_id: ChatId) -> ChatLanguage | None:
        statement = select(t.c.language, t.c.chosen).where(t.c.chat_id == chat_id)
        with translated("read a chat's language"):
            async with self._engine.connect() as conn:
                row = (await conn.execute(statement)).first()
        return None if row is None else ChatLanguage(row.language, bool(row.chosen))

    async def note(self, chat_id: ChatId, language: str) -> None:
        await self._put(chat_id, language_code(language), chosen=False)

    async def choose(self, chat_id: ChatId, language: str) -> None:
        await self._put(chat_id, language_code(language), chosen=True)

    async def _put(self, chat_id: ChatId, language: str, *, chosen: bool) -> None:
        insert = postgresql.insert(t) if self._postgres else sqlite.insert(t)
        values = {"language": language, "chosen": chosen}
        statement = insert.values(chat_id=chat_id, **values).on_conflict_do_update(
            index_elements=[t.c.chat_id],
            set_=values,
            where=None if chosen else t.c.chosen.is_(False),
        )
        async with self._turns.transaction("keep a chat's language") as conn:
            await conn.execute(statement)

    async def forget(self, chat_id: ChatId) -> bool:
        async with self._turns.transaction("forget a chat's language") as conn:
            result = await conn.execute(delete(t).where(t.c.chat_id == chat_id))
        return result.rowcount > 0
