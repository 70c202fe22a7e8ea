"""The one connection (and so the one transaction) a unit of work's repositories share."""

from __future__ import annotations

import functools
from collections.abc import AsyncIterator, Mapping, Sequence
from contextlib import asynccontextmanager
from typing import Any

from sqlalchemy import (
    ColumnElement,
    CursorResult,
    Executable,
    Table,
    TableValuedAlias,
    any_,
    bindparam,
    column,
    func,
    select,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.types import TypeEngine

from adapters.outbound.sqla.errors import translated


class NotInUnitOfWork(RuntimeError):
    """A repository was used outside ``async with uow:``."""


class SqlTransaction:
    def __init__(self) -> None:
        self._conn: AsyncConnection | None = None

    def attach(self, conn: AsyncConnection | None) -> None:
        self._conn = conn

    @property
    def conn(self) -> AsyncConnection:
        if self._conn is None:
            raise NotInUnitOfWork("repositories are used inside `async with uow:`")
        return self._conn

    @property
    def is_postgres(self) -> bool:
        return self.conn.dialect.name == "postgresql"

    async def execute(
        self, statement: Executable, action: str, params: Mapping[str, Any] | None = None
    ) -> CursorResult[Any]:
        """``params`` fill a prebuilt statement's ``bindparam``s."""
        with translated(action):
            return await self.conn.execute(statement, None if params is None else dict(params))

    async def execute_many(
        self, statement: Executable, rows: Sequence[Mapping[str, Any]], action: str
    ) -> None:
        """One statement for every row (the driver's executemany: one round trip on
        asyncpg). A single row goes as a plain execute."""
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
        with translated(action):
            result = await self.conn.execute(statement, dict(values))
        return result.first() is not None

    async def insert_many_once(
        self, batch: BatchInsert, rows: Sequence[Mapping[str, Any]], action: str
    ) -> list[bool]:
        """:meth:`insert_once` for each row, in the order of ``rows``: of rows with one
        key, only the first is tried. Postgres: one statement for all of them."""
        if not rows:
            return []
        firsts: dict[tuple[Any, ...], int] = {}
        for position, row in enumerate(rows):
            firsts.setdefault(tuple(row[name] for name in batch.key), position)
        if self.is_postgres:
            # In key order: two batches racing on some of the same keys wait for each
            # other in the same order instead of deadlocking.
            ordered = [rows[firsts[key]] for key in sorted(firsts)]
            with translated(action):
                result = await self.conn.execute(batch.postgres, columns(ordered, batch.names))
            inserted = {tuple(row) for row in result}
        else:
            inserted = set()
            for key, position in firsts.items():
                if await self.insert_once(batch.table, rows[position], batch.unique, action):
                    inserted.add(key)
        keys = [tuple(row[name] for name in batch.key) for row in rows]
        return [firsts[key] == position and key in inserted for position, key in enumerate(keys)]


def arrays(alias: str, types: Mapping[str, TypeEngine[Any]]) -> TableValuedAlias:
    """``unnest(:v_a, :v_b, ...) AS alias(a, b, ...)``: rows sent as one array per
    column (see :func:`columns`), for Postgres; ``types`` are the columns' types.

    A batch of any size is then one statement of one text, which asyncpg prepares
    once per connection (an ``IN`` list or a multi-row ``VALUES`` would be a new
    statement per batch size). The arrays' elements go through the columns' own
    types, so the UTC and exact-decimal rules of ``columns.py`` hold for them too."""
    binds = [bindparam(f"v_{name}", type_=postgresql.ARRAY(type_)) for name, type_ in types.items()]
    typed = [column(name, type_) for name, type_ in types.items()]
    return func.unnest(*binds).table_valued(*typed).render_derived(name=alias)


def types_of(table: Table, names: Sequence[str]) -> dict[str, TypeEngine[Any]]:
    """The types of ``table``'s columns ``names``, for :func:`arrays`."""
    return {name: table.c[name].type for name in names}


def columns(rows: Sequence[Mapping[str, Any]], names: Sequence[str]) -> dict[str, list[Any]]:
    """The parameters of :func:`arrays`: one list per column, rows in order."""
    return {f"v_{name}": [row[name] for row in rows] for name in names}


def any_of(table: Table, name: str, param: str) -> ColumnElement[bool]:
    """``table.name = ANY(:param)``: membership in one array parameter (Postgres), one
    statement text whatever the number of values."""
    array = bindparam(param, type_=postgresql.ARRAY(table.c[name].type))
    return table.c[name] == any_(array)


class BatchInsert:
    """``INSERT ... ON CONFLICT (unique) DO NOTHING`` of many rows of ``table``'s columns
    ``names``, telling which rows went in by their ``key`` columns (``unique=None``: a
    clash with any unique rule of the table). Built once per repository at import: it
    is on every payment's path."""

    def __init__(
        self,
        table: Table,
        names: Sequence[str],
        key: Sequence[str],
        unique: Sequence[str] | None,
    ) -> None:
        self.table = table
        self.names = tuple(names)
        self.key = tuple(key)
        self.unique = None if unique is None else tuple(unique)
        values = arrays("v", types_of(table, self.names))
        self.postgres: Executable = (
            postgresql.insert(table)
            .from_select(list(self.names), select(*values.c))
            .on_conflict_do_nothing(index_elements=None if unique is None else list(unique))
            .returning(*(table.c[name] for name in self.key))
        )


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
