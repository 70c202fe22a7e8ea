"""Rows a unit of work writes without needing an answer, held back and sent in one
statement on Postgres, where each round trip costs more than the statement's own
work: new subscriptions and grants, outbox messages, chained audit events and the
chain's new head. They go before the unit of work's next statement, whatever it
is (so it reads them back), or with its commit; a key refused there (a
subscription or grant that exists) fails that statement: Conflict, and the caller
rolls back. On SQLite (a local file) the repositories write at once.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import Executable, Table, bindparam, select, update
from sqlalchemy.dialects import postgresql
from sqlalchemy.sql.dml import Insert

from adapters.outbound.sqla.arrays import arrays, columns, types_of
from adapters.outbound.sqla.tables import (
    access_grants,
    audit_events,
    audit_head,
    outbox,
    subscriptions,
)

_TABLES: dict[str, Table] = {
    t.name: t for t in (subscriptions, access_grants, outbox, audit_events)
}
"""What may be held back, in the order it is written (as the repositories would)."""

_SKIPPED_AGAIN = {"outbox": "key"}
"""A key queued before is skipped, not refused (OutboxRepository.enqueue_many)."""


def _names(table: Table) -> tuple[str, ...]:
    # The outbox's id is a sequence the database assigns.
    return tuple(c.name for c in table.c if not (table is outbox and c.name == "id"))


def _insert(name: str) -> Insert:
    table = _TABLES[name]
    names = _names(table)
    rows = arrays(name, types_of(table, names), prefix=f"{name}_")
    statement = postgresql.insert(table).from_select(list(names), select(*rows.c))
    skipped = _SKIPPED_AGAIN.get(name)
    if skipped is not None:
        statement = statement.on_conflict_do_nothing(index_elements=[skipped])
    return statement


@functools.cache
def _statement(held: tuple[str, ...]) -> Executable:
    """One prepared statement per combination of what is held (a handful)."""
    first, *rest = [_insert(name) for name in held]
    if audit_events.name not in held:
        return first.add_cte(*(part.cte(f"w{n}") for n, part in enumerate(rest)))
    head = (
        update(audit_head)
        .where(audit_head.c.id == 1)
        .values(seq=bindparam("head_seq"), hash=bindparam("head_hash"))
    )
    return head.add_cte(*(part.cte(f"w{n}") for n, part in enumerate([first, *rest])))


class WriteBehind:
    def __init__(self) -> None:
        self._held: dict[str, list[Mapping[str, Any]]] = {}
        self.head: tuple[int, str] | None = None
        """The audit chain's head after the held events (with them, always)."""

    def hold(self, table: str, rows: Sequence[Mapping[str, Any]]) -> None:
        if table not in _TABLES:
            raise ValueError(f"{table} rows are not held back")
        if rows:
            self._held.setdefault(table, []).extend(rows)

    def clear(self) -> None:
        self._held, self.head = {}, None

    def take(self) -> tuple[Executable, dict[str, Any]] | None:
        """The statement and parameters for what is held, which is then let go."""
        if not self._held:
            return None
        held = tuple(name for name in _TABLES if self._held.get(name))
        params: dict[str, Any] = {}
        for name in held:
            rows = self._held[name]
            skipped = _SKIPPED_AGAIN.get(name)
            if skipped is not None:
                firsts: dict[Any, Mapping[str, Any]] = {}
                for row in rows:
                    firsts.setdefault(row[skipped], row)
                # In key order: two units of work holding some of the same keys wait
                # for each other in the same order instead of deadlocking.
                rows = [firsts[key] for key in sorted(firsts)]
            params |= columns(rows, _names(_TABLES[name]), prefix=f"{name}_")
        if audit_events.name in held:
            if self.head is None:
                raise ValueError("chained audit events go with the chain's new head")
            params["head_seq"], params["head_hash"] = self.head
        self.clear()
        return _statement(held), params
