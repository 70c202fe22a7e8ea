"""Wall-clock time for production processes, and a shifted clock for tests that
drive several real processes through reminders and expiry."""

from __future__ import annotations

import os
from datetime import UTC, datetime, timedelta
from decimal import Decimal, InvalidOperation
from pathlib import Path


class SystemClock:
    """Implements the Clock port: the operating system's time, aware, in UTC."""

    def now(self) -> datetime:
        return datetime.now(UTC)


class OffsetFileClock:
    """Implements the Clock port: the system time plus an offset read from a file.

    Every process given the same file sees the same shifted time, so a test can move
    the clock of a whole fleet (``web``, ``worker``, ``bot``) by rewriting one file.
    The file holds a number of seconds (``86400``, ``-30``, ``3600.5``); a missing
    file means no offset. It is re-read only when its modification time or size
    changes, so ``now()`` costs one ``stat``. Never used in production: the
    configuration refuses ``PAYGATE_CLOCK_OFFSET_FILE`` there.
    """

    def __init__(self, path: Path) -> None:
        self._path = path
        self._stamp: tuple[int, int] | None = None
        self._offset = timedelta(0)

    def now(self) -> datetime:
        return datetime.now(UTC) + self._current_offset()

    def _current_offset(self) -> timedelta:
        try:
            stat = self._path.stat()
        except FileNotFoundError:
            self._stamp, self._offset = None, timedelta(0)
            return self._offset
        stamp = (stat.st_mtime_ns, stat.st_size)
        if stamp != self._stamp:
            self._offset = read_offset(self._path)
            self._stamp = stamp
        return self._offset

    @staticmethod
    def write(path: Path, offset: timedelta) -> None:
        """Set the offset every process reading ``path`` sees, atomically (write a
        sibling file, then rename it over), so no reader meets half a number."""
        staging = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        staging.write_text(f"{offset.total_seconds()}\n", encoding="ascii")
        os.replace(staging, path)


def read_offset(path: Path) -> timedelta:
    """The offset stored in ``path``; ValueError names the file when it is not a number
    of seconds (a broken test set-up must stop loudly, not run at the wrong time)."""
    text = path.read_text(encoding="ascii").strip()
    try:
        seconds = Decimal(text)
    except InvalidOperation:
        raise ValueError(f"{path}: expected a number of seconds, found {text[:40]!r}") from None
    if not seconds.is_finite():
        raise ValueError(f"{path}: expected a finite number of seconds")
    return timedelta(seconds=float(seconds))
