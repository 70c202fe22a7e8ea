"""Failures a test arms on a fake: the next N calls raise, then calls succeed again."""

from __future__ import annotations

import copy
from collections import deque

from core.ports.errors import PortError


class ScriptedFailures:
    """A queue of errors; each call to :meth:`check` raises the next one, if any."""

    def __init__(self) -> None:
        self._queue: deque[PortError] = deque()

    def arm(self, error: PortError, count: int = 1) -> None:
        if count < 1:
            raise ValueError("arm at least one failure")
        # A fresh copy per call: each raise gets its own traceback.
        self._queue.extend(copy.copy(error) for _ in range(count))

    def check(self) -> None:
        if self._queue:
            raise self._queue.popleft()

    @property
    def armed(self) -> int:
        return len(self._queue)
