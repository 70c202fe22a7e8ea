"""Postgres only, private to the SQL adapter: rows a unit of work writes without
needing an answer, held back and sent in one statement, where each round trip costs
more than the statement's own work: recorded payment events, the payment intents'
compare-and-set, new subscriptions, grants and donations, outbox messages, what
they add to the dashboard's daily rollup (an upsert that adds), chained audit
events and the chain's new head. They go before the unit of work's next
statement, whatever it is (so it reads them back), or with its commit; a key refused
there (an event recorded meanwhile, a subscription, grant or donation that exists)
fails that statement, and so does an intent
that moved on: Conflict, and the caller rolls back. On SQLite (a local file) the
ledger and the repositories write at once.

Audit records are chained in the same statement, where the chain's tail is: the
statement locks the head row (the audit turn, held to commit), hashes each record
onto it (:func:`digest_parts` around the previous hash and the seq, SHA-256 in
SQL), inserts the events and moves the head. So taking the turn costs no round
trip of its own, and the turn is held only from the unit of work's last statement.

Rows are locked in the order the repositories would lock them one statement at a
time (events, then intents, then the audit head, then the rest): each step waits
for the one before it inside the statement (a sub-select of the step before in its
WHERE clause, which Postgres evaluates first), so units of work sharing rows queue
instead of deadlocking.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

import attrs
from sqlalchemy import (
    CTE,
    BigInteger,
    ColumnElement,
    Executable,
    Integer,
    Table,
    Text,
    bindparam,
    case,
    cast,
    func,
    literal,
    null,
    select,
    true,
    update,
)
from sqlalchemy.dialects import postgresql
from sqlalchemy.sql.dml import Insert, ReturningUpdate
from sqlalchemy.types import TypeEngine

from adapters.outbound.sqla.arrays import arrays, columns, types_of
from adapters.outbound.sqla.columns import UtcDateTime
from adapters.outbound.sqla.tables import (
    INTENT_PROGRESS,
    access_grants,
    audit_events,
    audit_head,
    daily_figures,
    donations,
    outbox,
    payment_events,
    payment_intents,
    subscriptions,
)
from core.domain.audit import GENESIS_HASH, AuditRecord

_TABLES: dict[str, Table] = {
    t.name: t
    for t in (
        payment_events,
        payment_intents,
        subscriptions,
        access_grants,
        donations,
        outbox,
        daily_figures,
        audit_events,
    )
}
"""What may be held back, in the order it is written (as the repositories would).
Payment intents are moves (compare-and-set), audit events are chained."""

_COMPACT = json.JSONEncoder(sort_keys=True, separators=(",", ":"), ensure_ascii=False)
"""The JSON ``AuditEvent.digest`` hashes: keys sorted, no spaces, UTF-8 as is."""

SEQ_JOIN = '","seq":'
"""What :func:`digest_parts` leaves between the previous hash and the seq."""


def digest_parts(at: datetime, record: AuditRecord) -> tuple[str, str]:
    """The text ``AuditEvent.digest`` hashes, around what only the chain's tail
    decides: ``before + prev_hash + SEQ_JOIN + str(seq) + after``, for a hash-chained
    previous hash (lower-case hex). The statement that chains the records where the
    tail is hashes exactly what the core's :func:`~core.domain.audit.verify_chain`
    recomputes (a contract test holds the two together)."""
    # The keys in sorted order: action, actor, at, details | prev, seq | subject.
    text = _COMPACT.encode
    before = (
        f'{{"action":{text(record.action)},"actor":{text(record.actor)},'
        f'"at":{text(at.isoformat())},"details":{text(dict(sorted(record.details.items())))}'
        ',"prev":"'
    )
    return before, f',"subject":{text(record.subject)}}}'


_SKIPPED_AGAIN = {"outbox": "key"}
"""A key queued before is skipped, not refused (as `PaymentLedger.save` promises)."""

_ADDED_UP = {"daily_figures": (("channel_id", "day", "currency", "kind"), ("amount", "count"))}
"""Rows added to the row of their key (an upsert): held rows of one key are summed
first, since one statement may change a row only once."""

_KEY_ORDER = {
    "daily_figures": _ADDED_UP["daily_figures"][0],
    "outbox": ("key",),
    "payment_events": ("provider", "payment_id", "status"),
    "payment_intents": ("id",),  # moves held by more than one call
}
"""Rows inserted in key order: two units of work holding some of the same keys wait
for each other in the same order instead of deadlocking."""

AUDIT_HELD = ("at", "actor", "action", "subject", "details", "before", "after")
"""What an audit record is held as: its stored fields and the digested text around
the previous hash and the seq (:func:`digest_parts`); the store numbers and
hashes it."""

MOVES = ("previous", "id", *INTENT_PROGRESS)
"""What a held compare-and-set of a payment intent is: its status before, its id and
its new progress."""


@functools.cache
def _names(table: Table) -> tuple[str, ...]:
    if table is audit_events:
        return AUDIT_HELD
    if table is payment_intents:
        return MOVES
    # The outbox's and the events' ids are sequences the database assigns.
    return tuple(c.name for c in table.c if c.name != "id" or table not in (outbox, payment_events))


def _insert(name: str) -> Insert:
    table = _TABLES[name]
    names = _names(table)
    rows = arrays(name, types_of(table, names), prefix=f"{name}_")
    statement = postgresql.insert(table).from_select(list(names), select(*rows.c))
    skipped = _SKIPPED_AGAIN.get(name)
    if skipped is not None:
        statement = statement.on_conflict_do_nothing(index_elements=[skipped])
    added = _ADDED_UP.get(name)
    if added is not None:
        key, sums = added
        statement = statement.on_conflict_do_update(
            index_elements=list(key),
            set_={column: table.c[column] + statement.excluded[column] for column in sums},
        )
    return statement


def _after(step: CTE | None) -> ColumnElement[bool]:
    """A condition that is always true, evaluated before the statement part it guards
    and only once ``step`` (a data-modifying CTE with RETURNING) has run."""
    if step is None:
        return true()
    return select(func.count()).select_from(step).scalar_subquery() >= 0


def advance_moves(prefix: str, *conditions: ColumnElement[bool]) -> ReturningUpdate[Any]:
    """The compare-and-set of payment intent moves sent as arrays named ``prefix`` +
    each of :data:`MOVES` (rows in id order: see ``intents.move_rows``), returning the
    ids it moved: ``IntentRepository.advance_many`` alone, or held with other rows."""
    t = payment_intents
    types = {"previous": t.c.status.type, **types_of(t, MOVES[1:])}
    moves = arrays("moves", types, prefix=prefix)
    return (
        update(t)
        .where(t.c.id == moves.c.id, t.c.status == moves.c.previous, *conditions)
        .values({name: moves.c[name] for name in INTENT_PROGRESS})
        .returning(t.c.id)
    )


def _chained_audit(after: CTE | None) -> tuple[list[CTE], CTE]:
    """The audit part of a statement: its CTEs, the last of them the head's update,
    which returns the new head (no row when the head row is missing, and then
    nothing of the audit part was written)."""
    # The turn: the head row's lock. After a wait, Postgres reads the head as the
    # previous appender committed it (READ COMMITTED re-reads a locked row).
    start = (
        select(audit_head.c.seq, cast(audit_head.c.hash, Text).label("hash"))
        .where(audit_head.c.id == 1, _after(after))
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
        .cte("audit_moved")
    )
    return [start, held, chain, events, head], head


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


REFUSED_MOVES = "paygate-write-behind: intents moved "
MISSING_HEAD = "paygate-write-behind: no audit head "
"""How a held statement refuses to finish (see :func:`_statement`): the text of the
error Postgres raises, for the caller to tell these apart from any other."""


@functools.cache
def _statement(held: tuple[str, ...], alone: bool = False) -> Executable:
    """One prepared statement per combination of what is held (a handful). With moves
    or audit events, it answers one row: how many intents moved and the audit chain's
    new head (None: the head row is missing).

    It fails (and so writes nothing) if fewer intents moved than ``expected_moves``
    and, when ``alone`` (the unit of work's only write, run without a transaction
    around it), if the audit head row is missing: what it wrote would otherwise be
    committed with it."""
    step: CTE | None = None
    parts: list[CTE] = []
    if payment_events.name in held:
        step = _insert(payment_events.name).returning(payment_events.c.id).cte("recorded")
        parts.append(step)
    moved = head = None
    if payment_intents.name in held:
        moved = step = advance_moves(f"{payment_intents.name}_", _after(step)).cte("moved")
        parts.append(moved)
    if audit_events.name in held:
        audit, head = _chained_audit(step)
        parts.extend(audit)
    if moved is None and head is None:
        first, *rest = [_insert(name) for name in held]
        return first.add_cte(*(part.cte(f"w{n}") for n, part in enumerate(rest)))
    inserts = [_insert(name) for name in held if name not in _LEADING]
    parts.extend(part.cte(f"w{n}") for n, part in enumerate(inserts))
    moved_count = literal(None, Integer) if moved is None else _count(moved)
    new_head = literal(None, BigInteger) if head is None else select(head.c.seq).scalar_subquery()
    refusals: list[tuple[ColumnElement[bool], ColumnElement[Any]]] = []
    if moved is not None:
        expected = bindparam("expected_moves", type_=Integer)
        refusals.append((moved_count != expected, _refuse(REFUSED_MOVES, moved_count)))
    if head is not None and alone:
        refusals.append((new_head.is_(None), _refuse(MISSING_HEAD, moved_count)))
    checked = case(*refusals, else_=literal(0)) if refusals else literal(0)
    outcome = select(moved_count.label("moved"), new_head.label("head"), checked.label("checked"))
    return outcome.add_cte(*parts)


def _refuse(reason: str, detail: ColumnElement[Any]) -> ColumnElement[Any]:
    # Postgres has no RAISE outside PL/pgSQL: a cast that cannot succeed fails the
    # statement with ``reason`` in its message. ``detail`` (a sub-select) keeps the
    # planner from evaluating the cast before the condition is known.
    return cast(func.concat(reason, detail), Integer)


_LEADING = {payment_events.name, payment_intents.name, audit_events.name}
"""Held rows written by steps of their own (see :func:`_statement`), not plain inserts."""


def _count(step: CTE) -> ColumnElement[int]:
    return select(func.count()).select_from(step).scalar_subquery()


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
                rows = list(firsts.values())
            if name in _ADDED_UP:
                rows = _added_up(rows, *_ADDED_UP[name])
            key = _KEY_ORDER.get(name)
            if key is not None:
                rows = sorted(rows, key=lambda row: tuple(row[k] for k in key))
            params |= columns(rows, _names(_TABLES[name]), prefix=f"{name}_")
        if payment_intents.name in held:
            params["expected_moves"] = len(self._held[payment_intents.name])
        self.clear()
        audit = None
        if audit_events.name in held:
            prefix = f"{audit_events.name}_"
            params[f"{prefix}n"] = list(range(1, len(params[f"{prefix}at"]) + 1))
            alone = {key: value for key, value in params.items() if key.startswith(prefix)}
            audit = (_statement((audit_events.name,)), alone)
        return Held(held, params, audit)


def _added_up(
    rows: Sequence[Mapping[str, Any]], key: Sequence[str], sums: Sequence[str]
) -> list[Mapping[str, Any]]:
    totals: dict[tuple[Any, ...], dict[str, Any]] = {}
    for row in rows:
        found = totals.get(tuple(row[k] for k in key))
        if found is None:
            totals[tuple(row[k] for k in key)] = dict(row)
        else:
            for column in sums:
                found[column] += row[column]
    return list(totals.values())


@attrs.frozen
class Held:
    tables: tuple[str, ...]
    params: dict[str, Any]
    audit: tuple[Executable, dict[str, Any]] | None
    """When audit records are held: the statement that writes them alone, sent again
    after seeding the chain's head if the statement found no head (within a
    transaction it then wrote everything else, and no audit event)."""

    def statement(self, alone: bool) -> Executable:
        """``alone``: the unit of work's only write, run without a transaction."""
        return _statement(self.tables, alone)

    @property
    def answers(self) -> bool:
        """Whether the statement answers a row (moves and audit events do)."""
        return payment_intents.name in self.tables or audit_events.name in self.tables
