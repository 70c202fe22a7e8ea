"""Waking the dispatcher of this process: an asyncio event.

All a single process needs (the monolith, the tests), and the local half of the
adapters that also reach other processes (Postgres LISTEN/NOTIFY, SQLite's
data_version), so that a commit in the dispatcher's own process wakes it without a
round trip through the database.
"""

from __future__ import annotations

import asyncio
import contextlib
from datetime import timedelta

__all__ = ["InProcessOutboxWakeup"]


class InProcessOutboxWakeup:
    """Implements OutboxWakeup for the event loop it is used on."""

    def __init__(self) -> None:
        self._event = asyncio.Event()

    async def notify(self) -> None:
        self.set()

    def set(self) -> None:
        """Wake the waiter (for callbacks that cannot await, such as a listener's)."""
        self._event.set()

    async def wait(self, at_most: timedelta) -> bool:
        seconds = at_most.total_seconds()
        if not self._event.is_set() and seconds > 0:
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(seconds):
                    await self._event.wait()
        woken = self._event.is_set()
        self._event.clear()
        return woken
