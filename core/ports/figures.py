"""The daily rollup's write side: what a unit of work adds to the channels' daily
figures (:mod:`core.domain.figures`), kept with the rows it counts."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from core.domain.figures import DailyFigure

__all__ = ["FigureRollup"]


class FigureRollup(Protocol):
    async def add(self, figures: Sequence[DailyFigure]) -> None:
        """Add ``figures`` to their days' totals (amounts and counts), as part of this
        unit of work: written with its commit, or not at all when it rolls back."""
        ...
