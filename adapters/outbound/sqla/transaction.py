"""The one connection (and so the one transaction) a unit of work's repositories share."""

from __future__ import annotations

import functools
from collections.abc import AsyncIterator, Iterator, Mapping, Sequence
from contextlib import asynccontextmanager, contextmanager
from typing import Any

from sqlalchemy import (
    CursorResult,
    Executable,
    Table,
)
from sqlalchemy import exc as sa_exc
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection

from adapters.outbound.sqla.errors import translated
from adapters.outbound.sqla.write_behind import (
    MISSING_HEAD,
    REFUSED_MOVES,
    SEED_HEAD,
    WriteBehind,
)
from core.ports.errors import Conflict


class NotInUnitOfWork(RuntimeError):
    """A repository was used outside ``async with uow:``."""


class SqlTransaction:
    def __init__(self) -> None:
        self._conn: AsyncConnection | None = None
        self.behind = WriteBehind()
        """Rows written without an answer (Postgres): sent in one statement before the
        next statement of this unit of work, or with its commit."""

    def attach(self, conn: AsyncConnection | None) -> None:
        self._conn = conn
        self.behind.clear()

    async def send_behind(self, *, last: bool = False) -> None:
        """Send the rows held back, if any. ``last``: nothing follows but the commit;
        on Postgres, if nothing was written before, they then go as one statement
        outside any transaction (it is atomic on its own: no BEGIN or COMMIT to send)."""
        held = self.behind.take()
        if held is None:
            return
        alone = False
        for attempt in range(2):
            try:
                async with self._outside_transaction(last) as alone:
                    with _refusals("write held-back rows"):
                        result = await self.conn.execute(held.statement(alone), held.params)
            except _NoAuditHead:
                if attempt:
                    raise RuntimeError("the audit head row could not be created") from None
                async with self._outside_transaction(last):
                    with translated("seed the audit head"):
                        await self.conn.execute(SEED_HEAD)
                continue
            break
        if alone or held.audit is None or result.one().head is not None:
            return
        with translated("write held-back rows"):
            # Within the transaction the head row was missing: put it back, then chain.
            await self.conn.execute(SEED_HEAD)
            statement, params = held.audit
            if (await self.conn.execute(statement, params)).one().head is None:
                raise RuntimeError("the audit head row could not be created")

    @asynccontextmanager
    async def _outside_transaction(self, wanted: bool) -> AsyncIterator[bool]:
        """Whether the next statement runs on its own, outside any transaction: if
        ``wanted``, on Postgres, before the unit of work has begun one. The driver then
        sends no BEGIN before it; the transaction, if the unit of work ever writes,
        begins with its next statement as usual."""
        if not (wanted and self.is_postgres):
            yield False
            return
        raw = await self.conn.get_raw_connection()
        driver, dbapi = raw.driver_connection, raw.dbapi_connection
        if driver is None or dbapi is None or driver.is_in_transaction():
            yield False
            return
        dbapi.autocommit = True
        try:
            yield True
        finally:
            dbapi.autocommit = False

    @property
    def conn(self) -> AsyncConnection:
        if self._conn is None:
            raise NotInUnitOfWork("repositories are used inside `async with uow:`")
        return self._conn

    @property
    def is_postgres(self) -> bool:
        return self.conn.dialect.name == "postgresql"

    async def execute(
        self,
        statement: Executable,
        action: str,
        params: Mapping[str, Any] | None = None,
        *,
        after_held: bool = True,
        reads_only: bool = False,
    ) -> CursorResult[Any]:
        """``params`` fill a prebuilt statement's ``bindparam``s. Rows held back go
        first unless ``after_held`` is False (a statement that reads none of them and
        must come before them).

        ``reads_only``: a plain read (no row locks). On Postgres, before the unit of
        work has written anything, it then runs outside the transaction, which begins
        with the first write: under READ COMMITTED each statement reads its own
        snapshot either way, and a unit of work that only writes once (a batch of
        payments) sends neither BEGIN nor COMMIT."""
        if after_held:
            await self.send_behind()
        async with self._outside_transaction(reads_only):
            with translated(action):
                return await self.conn.execute(statement, None if params is None else dict(params))

    async def execute_many(
        self, statement: Executable, rows: Sequence[Mapping[str, Any]], action: str
    ) -> None:
        """One statement for every row (the driver's executemany: one round trip on
        asyncpg). A single row goes as a plain execute."""
        await self.send_behind()
        with translated(action):
            await self.conn.execute(statement, list(rows) if len(rows) > 1 else rows[0])

    @asynccontextmanager
    async def savepoint(self, action: str) -> AsyncIterator[None]:
        """Statements that may break a uniqueness rule: on ``Conflict`` only they are
        undone, and the unit of work stays usable (Postgres would otherwise refuse
        every later statement of the aborted transaction)."""
        with translated(action):
            async with self.conn.begin_nested():
                yield

    async def insert_once(
        self,
        table: Table,
        values: Mapping[str, Any],
        unique: Sequence[str] | None,
        action: str,
    ) -> bool:
        """``INSERT ... ON CONFLICT (unique) DO NOTHING``: False when the row existed
        (``unique=None``: a row clashing with any unique rule of the table).

        A concurrent inserter of the same key waits for the first one's transaction
        and then does nothing, so exactly one of them reports True. The transaction
        stays usable either way, without the round trips of a savepoint."""
        statement = _insert_once_statement(self.conn.dialect.name, table, unique)
        await self.send_behind()
        with translated(action):
            result = await self.conn.execute(statement, dict(values))
        return result.first() is not None


class _NoAuditHead(Exception):
    """A held statement run alone found no audit head row: it wrote nothing."""


@contextmanager
def _refusals(action: str) -> Iterator[None]:
    """:func:`translated`, and a held statement's own refusals (see ``WriteBehind``)."""
    try:
        with translated(action):
            yield
    except sa_exc.DBAPIError as exc:
        text = str(exc.orig)
        if REFUSED_MOVES in text:
            raise Conflict(f"{action}: a payment intent moved on meanwhile") from exc
        if MISSING_HEAD in text:
            raise _NoAuditHead() from exc
        raise


@functools.cache
def _insert_once_statement(dialect: str, table: Table, unique: Sequence[str] | None) -> Executable:
    """Built once per table and key: these inserts are on every payment's path, and a
    statement built per call costs more CPU than the round trip it makes."""
    returned = next(iter(table.primary_key.columns))
    index = None if unique is None else list(unique)
    if dialect == "postgresql":
        return (
            postgresql.insert(table)
            .on_conflict_do_nothing(index_elements=index)
            .returning(returned)
        )
    return sqlite.insert(table).on_conflict_do_nothing(index_elements=index).returning(returned)
