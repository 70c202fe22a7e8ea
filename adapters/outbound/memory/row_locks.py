"""Locks for the in-memory store: the part of a database's locking the ports rely on.

A unit of work that writes a row, or claims a unique value for one, holds that lock
until it commits or rolls back, as Postgres does. Another unit of work writing the
same row or value waits for it, then sees the committed result; this is what makes
``IntentRepository.advance`` a true compare-and-set and lets the first of two racing
inserts win. ``claim`` uses :meth:`RowLocks.try_acquire` to skip locked rows, like
``FOR UPDATE SKIP LOCKED``.
"""

from __future__ import annotations

import asyncio
from collections.abc import Hashable

import attrs

from core.ports.errors import Unavailable


class SelfDeadlock(RuntimeError):
    """The current task already holds this lock through another unit of work.

    A real database would wait forever here; failing at once names the bug (usually a
    test that keeps one unit of work open while another writes the same row)."""


@attrs.define
class _Hold:
    owner: object
    task: asyncio.Task[object] | None


class RowLocks:
    """Locks named by any hashable (``(table, "row", key)``, ``(table, index, value)``),
    owned by a unit of work."""

    def __init__(self, timeout: float) -> None:
        if timeout <= 0:
            raise ValueError("the lock wait timeout must be positive")
        self._timeout = timeout
        self._holds: dict[Hashable, _Hold] = {}
        self._released: dict[Hashable, asyncio.Event] = {}

    def try_acquire(self, key: Hashable, owner: object) -> bool:
        """Take the lock if it is free (or already ours); never waits."""
        hold = self._holds.get(key)
        if hold is None:
            self._holds[key] = _Hold(owner, asyncio.current_task())
            return True
        return hold.owner is owner

    async def acquire(self, key: Hashable, owner: object) -> bool:
        """Wait for the lock; True if newly taken, False if ``owner`` already held it.

        Raises Unavailable after the timeout (a database's lock timeout), and
        SelfDeadlock when the waiting task is the one holding the lock."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self._timeout
        while True:
            hold = self._holds.get(key)
            if hold is None:
                self._holds[key] = _Hold(owner, asyncio.current_task())
                return True
            if hold.owner is owner:
                return False
            if hold.task is not None and hold.task is asyncio.current_task():
                raise SelfDeadlock(
                    f"{key!r} is locked by another unit of work of this same task; "
                    "commit or roll that one back first"
                )
            released = self._released.setdefault(key, asyncio.Event())
            remaining = deadline - loop.time()
            try:
                async with asyncio.timeout(remaining if remaining > 0 else 0):
                    await released.wait()
            except TimeoutError:
                raise Unavailable(f"lock wait timeout on {key!r} after {self._timeout} s") from None

    def release(self, key: Hashable, owner: object) -> None:
        hold = self._holds.get(key)
        if hold is None or hold.owner is not owner:
            return
        del self._holds[key]
        released = self._released.pop(key, None)
        if released is not None:
            released.set()
