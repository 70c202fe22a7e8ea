"""The daily rollup in process memory: what a unit of work adds is kept aside and
added to the store's totals at its commit, all at once (the commit never yields
between its check and its writes), or dropped at its rollback."""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal

from core.domain.figures import DailyFigure, FigureKey, summed

Totals = dict[FigureKey, tuple[Decimal, int]]
"""The committed rollup: (amount, count) per (channel, day, currency, kind)."""


class InMemoryFigureRollup:
    """Implements FigureRollup over ``totals``; the unit of work calls validate, apply
    and reset like its table views'."""

    def __init__(self, totals: Totals) -> None:
        self._totals = totals
        self._pending: list[DailyFigure] = []

    async def add(self, figures: Sequence[DailyFigure]) -> None:
        self._pending.extend(figures)

    def validate(self) -> None:
        """Adding refuses nothing."""

    def apply(self) -> None:
        for figure in summed(self._pending):
            amount, count = self._totals.get(figure.key, (Decimal(0), 0))
            self._totals[figure.key] = (amount + figure.amount, count + figure.count)
        self._pending = []

    def reset(self) -> None:
        self._pending = []
