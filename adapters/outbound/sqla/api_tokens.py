"""The HTTP API's tokens in the database every process shares.

Each call is one short statement (or one write transaction) outside any unit of
work, like the dashboard's sessions. The digest is unique: a token is found by it
with one indexed read on every exchange.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncEngine

from adapters.outbound.sqla.errors import translated
from adapters.outbound.sqla.tables import api_tokens as t
from adapters.outbound.sqla.turns import WriteTurns
from core.domain.ids import UserId
from core.ports.api_tokens import ApiScope, ApiToken


def _token(row: Any) -> ApiToken:
    return ApiToken(
        row.id,
        UserId(row.user_id),
        row.name,
        ApiScope(row.scope),
        row.prefix,
        row.created_at,
        row.last_used,
        row.revoked_at,
    )


class SqlApiTokenStore:
    """Implements ApiTokenStore. Raises Unavailable when the database cannot be reached."""

    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine
        self._turns = WriteTurns(engine)

    async def _read(self, action: str, statement: Any) -> list[Any]:
        with translated(action):
            async with self._engine.connect() as conn:
                return list((await conn.execute(statement)).all())

    async def add(self, token: ApiToken, digest: str) -> None:
        async with self._turns.transaction("keep an API token") as conn:
            await conn.execute(
                t.insert().values(
                    id=token.id,
                    digest=digest,
                    user_id=token.user_id,
                    name=token.name,
                    scope=token.scope.value,
                    prefix=token.prefix,
                    created_at=token.created_at,
                    last_used=token.last_used,
                    revoked_at=token.revoked_at,
                )
            )

    async def by_digest(self, digest: str) -> ApiToken | None:
        statement = select(t).where(t.c.digest == digest, t.c.revoked_at.is_(None))
        rows = await self._read("find an API token", statement)
        return _token(rows[0]) if rows else None

    async def get(self, token_id: str) -> ApiToken | None:
        rows = await self._read("read an API token", select(t).where(t.c.id == token_id))
        return _token(rows[0]) if rows else None

    async def of_user(self, user_id: UserId) -> Sequence[ApiToken]:
        statement = select(t).where(t.c.user_id == user_id).order_by(t.c.created_at.desc(), t.c.id)
        return [_token(row) for row in await self._read("list API tokens", statement)]

    async def revoke(self, token_id: str, user_id: UserId, at: datetime) -> bool:
        statement = (
            update(t)
            .where(t.c.id == token_id, t.c.user_id == user_id, t.c.revoked_at.is_(None))
            .values(revoked_at=at)
        )
        async with self._turns.transaction("revoke an API token") as conn:
            result = await conn.execute(statement)
        return bool(result.rowcount)

    async def touch(self, token_id: str, at: datetime) -> None:
        async with self._turns.transaction("note an API token's use") as conn:
            await conn.execute(update(t).where(t.c.id == token_id).values(last_used=at))

    async def forget(self, user_id: UserId) -> int:
        async with self._turns.transaction("delete a person's API tokens") as conn:
            result = await conn.execute(delete(t).where(t.c.user_id == user_id))
        return int(result.rowcount or 0)
