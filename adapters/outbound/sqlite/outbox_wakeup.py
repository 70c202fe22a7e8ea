"""Waking dispatchers in every process on one SQLite file: a short poll of
``PRAGMA data_version``.

SQLite has no notifications between processes. What it has is a counter, read on a
connection of our own, that changes whenever another connection commits to the file:
a read of a few microseconds that takes no lock, where polling the outbox itself
would take the write lock every time. So the dispatcher looks every ``check_every``
and claims only when something was committed. Within the process a commit wakes the
dispatcher directly.

Every commit counts, not only those that queued outbox work (the counter cannot
tell), so a busy database wakes the dispatcher more often than needed: a claim that
finds nothing. An idle one costs the reads only.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import sqlite3
import threading
from datetime import timedelta
from pathlib import Path

__all__ = ["SqliteOutboxWakeup"]

logger = logging.getLogger(__name__)


class SqliteOutboxWakeup:
    """Implements OutboxWakeup across the processes that share ``path``."""

    def __init__(self, path: Path, *, check_every: timedelta = timedelta(milliseconds=50)) -> None:
        if check_every <= timedelta(0):
            raise ValueError("the check interval is positive")
        self._path = path
        self._check_every = check_every.total_seconds()
        self._event = asyncio.Event()
        self._conn: sqlite3.Connection | None = None
        self._lock = threading.Lock()
        """The connection is used from worker threads: one at a time."""
        self._version: int | None = None

    async def notify(self) -> None:
        self._event.set()

    async def wait(self, at_most: timedelta) -> bool:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + at_most.total_seconds()
        if self._version is None:
            await self._changed()  # the first reading is where changes count from
        while not self._event.is_set():
            remaining = deadline - loop.time()
            if remaining <= 0:
                return False
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(min(self._check_every, remaining)):
                    await self._event.wait()
            if not self._event.is_set() and await self._changed():
                return True
        self._event.clear()
        return True

    async def _changed(self) -> bool:
        try:
            version = await asyncio.to_thread(self._read_version)
        except sqlite3.Error as exc:
            logger.warning("cannot read the database's data_version (%s); polling", exc)
            await asyncio.to_thread(self._drop)
            return False
        changed = self._version is not None and version != self._version
        self._version = version
        return changed

    def _read_version(self) -> int:
        with self._lock:
            if self._conn is None:
                # Autocommit: no read transaction is left open to hold back checkpoints.
                self._conn = sqlite3.connect(
                    self._path, check_same_thread=False, timeout=5.0, isolation_level=None
                )
            row = self._conn.execute("PRAGMA data_version").fetchone()
            return int(row[0])

    def _drop(self) -> None:
        with self._lock:
            conn, self._conn = self._conn, None
            self._version = None
            if conn is not None:
                conn.close()

    async def close(self) -> None:
        await asyncio.to_thread(self._drop)
