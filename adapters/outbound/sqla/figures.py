"""The daily rollup on SQL, in the unit of work's transaction.

On Postgres what a unit of work adds is held back (``write_behind``) and sent with
its commit in the one statement that writes the rest: an upsert that adds to the
day's row, no round trip of its own, the batch's figures summed first so each row is
touched once. On SQLite (a local file) the rows are read and written at once: the
amounts are stored as exact decimal text there, so they are added here, not by SQL.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from typing import Any

from sqlalchemy import insert, select, tuple_, update

from adapters.outbound.sqla.tables import daily_figures as t
from adapters.outbound.sqla.transaction import SqlTransaction
from core.domain.figures import DailyFigure, summed

KEY = ("channel_id", "day", "currency", "kind")


def figure_row(figure: DailyFigure) -> dict[str, Any]:
    return {
        "channel_id": figure.channel_id,
        "day": figure.day,
        "currency": figure.currency,
        "kind": figure.kind.value,
        "amount": figure.amount,
        "count": figure.count,
    }


_INSERT = insert(t)


class SqlFigureRollup:
    """Implements FigureRollup."""

    def __init__(self, tx: SqlTransaction) -> None:
        self._tx = tx

    async def add(self, figures: Sequence[DailyFigure]) -> None:
        rows = [figure_row(f) for f in summed(figures)]
        if not rows:
            return
        if self._tx.is_postgres:
            self._tx.behind.hold(t.name, rows)
            return
        keys = [tuple(row[k] for k in KEY) for row in rows]
        found = await self._tx.execute(
            select(t).where(tuple_(*(t.c[k] for k in KEY)).in_(keys)), "read daily figures"
        )
        stored = {tuple(r._mapping[k] for k in KEY): (r.amount, r.count) for r in found}
        fresh = []
        for row, key in zip(rows, keys, strict=True):
            before = stored.get(key)
            if before is None:
                fresh.append(row)
                continue
            amount: Decimal = before[0] + row["amount"]
            statement = (
                update(t)
                .where(*(t.c[k] == row[k] for k in KEY))
                .values(amount=amount, count=before[1] + row["count"])
            )
            await self._tx.execute(statement, "add to daily figures")
        if fresh:
            await self._tx.execute_many(_INSERT, fresh, "record daily figures")
