"""Virtual time for the pacing tests: the limiter's ``sleep`` parks the caller on a
timer, and :meth:`VirtualTime.run` jumps the clock from timer to timer once every
task has gone as far as it can, so a minute of pacing takes milliseconds."""

from __future__ import annotations

import asyncio
import heapq
from collections.abc import Awaitable, Iterable
from typing import TypeVar

T = TypeVar("T")

_SETTLE_ROUNDS = 50


class VirtualTime:
    def __init__(self) -> None:
        self.now = 0.0
        self._timers: list[tuple[float, int, asyncio.Future[None]]] = []
        self._seq = 0

    def clock(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        wake: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        heapq.heappush(self._timers, (self.now + max(seconds, 0.0), self._seq, wake))
        self._seq += 1
        await wake

    async def run(self, calls: Iterable[Awaitable[T]]) -> list[asyncio.Task[T]]:
        """Run ``calls`` to completion on virtual time; the finished tasks, in order."""
        tasks = [asyncio.ensure_future(call) for call in calls]
        while True:
            for _ in range(_SETTLE_ROUNDS):
                await asyncio.sleep(0)
            if all(task.done() for task in tasks):
                return tasks
            if not self._timers:
                raise RuntimeError("tasks are stuck on something other than virtual time")
            at = self._timers[0][0]
            self.now = max(self.now, at)
            while self._timers and self._timers[0][0] <= at:
                _, _, wake = heapq.heappop(self._timers)
                if not wake.done():
                    wake.set_result(None)
