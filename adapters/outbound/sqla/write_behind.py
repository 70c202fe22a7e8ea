"""The statement that sends what a unit of work held back (see ``WriteBehind`` in
``transaction``): the outbox rows (a key queued before is skipped), the chained
audit events and the chain's new head, all in one statement on Postgres."""

from __future__ import annotations

import functools
from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import Executable, bindparam, insert, select, update
from sqlalchemy.dialects import postgresql

from adapters.outbound.sqla.arrays import arrays, columns, types_of
from adapters.outbound.sqla.tables import audit_events, audit_head, outbox

_OUTBOX = tuple(c.name for c in outbox.c if c.name != "id")
_AUDIT = tuple(c.name for c in audit_events.c)


@functools.cache
def _statement(queued: bool, chained: bool) -> Executable:
    """Built once per combination (three): each is one prepared statement."""
    rows = arrays("o", types_of(outbox, _OUTBOX), prefix="o_")
    queue = (
        postgresql.insert(outbox)
        .from_select(list(_OUTBOX), select(*rows.c))
        .on_conflict_do_nothing(index_elements=["key"])
    )
    if not chained:
        return queue
    parts = [queue.cte("queued")] if queued else []
    events = arrays("a", types_of(audit_events, _AUDIT), prefix="a_")
    parts.append(insert(audit_events).from_select(list(_AUDIT), select(*events.c)).cte("chained"))
    head = (
        update(audit_head)
        .where(audit_head.c.id == 1)
        .values(seq=bindparam("head_seq"), hash=bindparam("head_hash"))
    )
    return head.add_cte(*parts)


def statement_for(
    queued: Sequence[Mapping[str, Any]],
    chained: Sequence[Mapping[str, Any]],
    head: tuple[int, str] | None,
) -> tuple[Executable, dict[str, Any]]:
    params: dict[str, Any] = {}
    if queued:
        firsts: dict[str, Mapping[str, Any]] = {}
        for row in queued:
            firsts.setdefault(row["key"], row)
        # In key order: two units of work queueing some of the same keys wait for
        # each other in the same order instead of deadlocking.
        params |= columns([firsts[key] for key in sorted(firsts)], _OUTBOX, prefix="o_")
    if chained:
        if head is None:
            raise ValueError("chained audit events go with the chain's new head")
        params |= columns(chained, _AUDIT, prefix="a_")
        params["head_seq"], params["head_hash"] = head
    return _statement(bool(queued), bool(chained)), params
