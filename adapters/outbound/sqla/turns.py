"""Write transactions on an engine for the small stores beside the unit of work
(languages, wordings, dashboard sessions): SQLite lets one writer in at a time, so
this process's own writes queue on a lock instead of failing busy; Postgres takes
them as they come."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from adapters.outbound.sqla.errors import translated

__all__ = ["WriteTurns"]


class WriteTurns:
    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine
        self._lock = None if engine.dialect.name == "postgresql" else asyncio.Lock()

    @asynccontextmanager
    async def transaction(self, action: str) -> AsyncIterator[AsyncConnection]:
        """One transaction, driver errors translated (``action`` names it)."""
        with translated(action):
            if self._lock is None:
                async with self._engine.begin() as conn:
                    yield conn
                return
            async with self._lock, self._engine.begin() as conn:
                yield conn
