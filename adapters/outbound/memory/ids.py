"""Deterministic ids, so tests and the demo's transcript are repeatable."""

from __future__ import annotations

import itertools

from core.domain.ids import is_valid_id

_WIDTH = 8


class SequentialIdGenerator:
    """Implements the IdGenerator port with ``<prefix><counter>`` ids (``id00000001``).

    Not unguessable, so only for tests and the demo: the counter is zero-padded so
    the ids sort in the order they were made, which keeps listings readable.
    """

    def __init__(self, prefix: str = "id", start: int = 1) -> None:
        if start < 0:
            raise ValueError("the counter starts at zero or above")
        if not is_valid_id(f"{prefix}{start:0{_WIDTH}d}") or len(prefix) > 32 - _WIDTH:
            raise ValueError(
                f"an id prefix is up to {32 - _WIDTH} ASCII letters or digits, got {prefix!r}"
            )
        self._prefix = prefix
        self._counter = itertools.count(start)

    def new_id(self) -> str:
        new = f"{self._prefix}{next(self._counter):0{_WIDTH}d}"
        if not is_valid_id(new):
            raise OverflowError("the id counter outgrew 32 characters")
        return new
