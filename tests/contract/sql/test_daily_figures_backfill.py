"""Migration 0013 fills the daily rollup from the rows stored before it: after a
mixed sequence written by the write path, dropping the rollup (down to 0008) and
migrating again gives back the same takings, donations and refunds per day, the
same new and renewed subscriptions, and the same number of endings (dated at their
end day, not the day the sweep saw them)."""

from __future__ import annotations

import asyncio

from sqlalchemy.engine import URL

from adapters.outbound.sqla import create_engine, downgrade, upgrade
from adapters.outbound.sqla.dashboard import SqlChannelFigures
from core.domain.figures import FigureKind
from core.ports.dashboard import DayTotal
from tests.contract.backends_sql import sql_uow
from tests.contract.sql.head import HEAD
from tests.contract.test_daily_figures import DAY0, mixed_sequence
from tests.unit.services.world import build


def _money(rows: list[DayTotal]) -> set[tuple[object, ...]]:
    return {
        (r.day, r.currency, r.kind, r.amount, r.count)
        for r in rows
        if r.kind is not FigureKind.CHURNED
    }


def _endings(rows: list[DayTotal]) -> int:
    return sum(r.count for r in rows if r.kind is FigureKind.CHURNED)


async def test_the_backfill_gives_back_what_the_write_path_kept(blank_url: URL) -> None:
    await asyncio.to_thread(upgrade, blank_url, HEAD)
    engine = create_engine(blank_url, pool_size=2, max_overflow=2)
    try:
        world = build(uow=sql_uow(engine))
        channel_id = await mixed_sequence(world)
        figures = SqlChannelFigures(engine)
        kept = list(await figures.by_day([channel_id], DAY0))
        kept_totals = list(await figures.by_day(None, DAY0))
        await engine.dispose()
        await asyncio.to_thread(downgrade, blank_url, "0008")
        await asyncio.to_thread(upgrade, blank_url, HEAD)
        filled = list(await figures.by_day([channel_id], DAY0))
        filled_totals = list(await figures.by_day(None, DAY0))
    finally:
        await engine.dispose()

    assert _money(filled) == _money(kept)
    assert _endings(filled) == _endings(kept) == 3
    assert _money(filled_totals) == _money(kept_totals) == _money(kept)
    assert _endings(filled_totals) == 3
