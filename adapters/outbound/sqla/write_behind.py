"""Rows a unit of work writes without needing an answer, held back and sent in one
statement on Postgres, where each round trip costs more than the statement's own
work: new subscriptions and grants, outbox messages, chained audit events and the
chain's new head. They go before the unit of work's next statement, whatever it
is (so it reads them back), or with its commit; a key refused there (a
subscription or grant that exists) fails that statement: Conflict, and the caller
rolls back. On SQLite (a local file) the repositories write at once.

Audit records are chained in the same statement, where the chain's tail is: the
statement locks the head row (the audit turn, held to commit), hashes each record
onto it (``AuditEvent.digest_parts`` around the previous hash and the seq, SHA-256
in SQL), inserts the events and moves the head. So taking the turn costs no round
trip of its own, and the turn is held only from the unit of work's last statement.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping, Sequence
from typing import Any

import attrs
from sqlalchemy import (
    CTE,
    BigInteger,
    Executable,
    Integer,
    Table,
    Text,
    cast,
    func,
    literal,
    null,
    select,
    update,
)
from sqlalchemy.dialects import postgresql
from sqlalchemy.sql.dml import Insert, Update
from sqlalchemy.types import TypeEngine

from adapters.outbound.sqla.arrays import arrays, columns, types_of
from adapters.outbound.sqla.columns import UtcDateTime
from adapters.outbound.sqla.tables import (
    access_grants,
    audit_events,
    audit_head,
    outbox,
    subscriptions,
)
from core.domain.audit import GENESIS_HASH, SEQ_JOIN

_TABLES: dict[str, Table] = {
    t.name: t for t in (subscriptions, access_grants, outbox, audit_events)
}
"""What may be held back, in the order it is written (as the repositories would);
audit events are chained and the head moved in the same statement."""

_SKIPPED_AGAIN = {"outbox": "key"}
"""A key queued before is skipped, not refused (OutboxRepository.enqueue_many)."""


AUDIT_HELD = ("at", "actor", "action", "subject", "details", "before", "after")
"""What an audit record is held as: its stored fields and the digested text around
the previous hash and the seq (``AuditEvent.digest_parts``); the store numbers and
hashes it."""


def _names(table: Table) -> tuple[str, ...]:
    if table is audit_events:
        return AUDIT_HELD
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


def _chained_audit() -> tuple[list[CTE], Update]:
    """The audit part of a statement: its CTEs, and the head's update, which returns
    the new head (the statement's own result; no row when the head row is missing,
    and then nothing of the audit part was written)."""
    # The turn: the head row's lock. After a wait, Postgres reads the head as the
    # previous appender committed it (READ COMMITTED re-reads a locked row).
    start = (
        select(audit_head.c.seq, cast(audit_head.c.hash, Text).label("hash"))
        .where(audit_head.c.id == 1)
        .with_for_update()
        .cte("audit_start")
    )
    types: dict[str, TypeEngine[Any]] = {"n": Integer(), "at": UtcDateTime()}
    types |= {name: Text() for name in AUDIT_HELD if name != "at"}
    held_rows = arrays("audit_rows", types, prefix="audit_events_")
    held = select(*held_rows.c).cte("audit_held")
    chain = select(
        literal(0, Integer).label("n"),
        start.c.seq,
        start.c.hash,
        cast(null(), Text).label("prev"),
    ).cte("audit_chain", recursive=True)
    link = chain.alias("link")
    seq = link.c.seq + 1
    digested = held.c.before + link.c.hash + SEQ_JOIN + cast(seq, Text) + held.c.after
    chain = chain.union_all(
        select(
            held.c.n,
            cast(seq, BigInteger),
            func.encode(func.sha256(func.convert_to(digested, "UTF8")), "hex"),
            link.c.hash,
        ).join_from(link, held, held.c.n == link.c.n + 1)
    )
    stored = [name for name in AUDIT_HELD if name not in ("before", "after")]
    events = (
        postgresql.insert(audit_events)
        .from_select(
            ["seq", *stored, "prev_hash", "hash"],
            select(
                chain.c.seq, *(held.c[name] for name in stored), chain.c.prev, chain.c.hash
            ).join_from(chain, held, held.c.n == chain.c.n),
        )
        .cte("audit_written")
    )
    newest = select(chain).order_by(chain.c.n.desc()).limit(1)
    head = (
        update(audit_head)
        .where(audit_head.c.id == 1)
        .values(
            seq=newest.with_only_columns(chain.c.seq).scalar_subquery(),
            hash=newest.with_only_columns(chain.c.hash).scalar_subquery(),
        )
        .returning(audit_head.c.seq)
    )
    return [start, held, chain, events], head


# A database whose head row is missing (emptied by hand or by tests) gets it back
# from the stored events; of two units of work doing this at once, one inserts and
# the other waits for it, then takes its turn after it.
_TAIL_HASH = (
    select(audit_events.c.hash).order_by(audit_events.c.seq.desc()).limit(1).scalar_subquery()
)
SEED_HEAD = (
    postgresql.insert(audit_head)
    .from_select(
        ["id", "seq", "hash"],
        select(
            literal(1),
            func.coalesce(func.max(audit_events.c.seq), 0),
            func.coalesce(_TAIL_HASH, GENESIS_HASH),
        ),
    )
    .on_conflict_do_nothing(index_elements=["id"])
)


@functools.cache
def _statement(held: tuple[str, ...]) -> Executable:
    """One prepared statement per combination of what is held (a handful)."""
    inserts = [_insert(name) for name in held if name != audit_events.name]
    if audit_events.name not in held:
        first, *rest = inserts
        return first.add_cte(*(part.cte(f"w{n}") for n, part in enumerate(rest)))
    audit, head = _chained_audit()
    return head.add_cte(*audit, *(part.cte(f"w{n}") for n, part in enumerate(inserts)))


class WriteBehind:
    def __init__(self) -> None:
        self._held: dict[str, list[Mapping[str, Any]]] = {}

    def hold(self, table: str, rows: Sequence[Mapping[str, Any]]) -> None:
        """Rows of ``table`` to write; audit records as :data:`AUDIT_HELD`, in the
        order they are chained."""
        if table not in _TABLES:
            raise ValueError(f"{table} rows are not held back")
        if rows:
            self._held.setdefault(table, []).extend(rows)

    def clear(self) -> None:
        self._held = {}

    def take(self) -> Held | None:
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
        self.clear()
        if audit_events.name not in held:
            return Held(_statement(held), params, None)
        prefix = f"{audit_events.name}_"
        params[f"{prefix}n"] = list(range(1, len(params[f"{prefix}at"]) + 1))
        audit = {key: value for key, value in params.items() if key.startswith(prefix)}
        return Held(_statement(held), params, (_statement((audit_events.name,)), audit))


@attrs.frozen
class Held:
    statement: Executable
    params: dict[str, Any]
    audit: tuple[Executable, dict[str, Any]] | None
    """When audit records are held: the statement that writes them alone, sent again
    after seeding the chain's head if ``statement`` found no head (it then wrote
    everything else, and no audit event)."""
