"""The demo's hold on time: reminders and expiry are days away, so the journey moves
PayGate's clock on; how depends on where PayGate runs (this process, or a fleet)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Protocol

from adapters.outbound.system.clock import OffsetFileClock


class TimeControl(Protocol):
    """How the journey moves PayGate's time on: reminders and expiry are days away,
    and a declined join request is answered seconds after the notice."""

    @property
    def offset(self) -> timedelta:
        """How far PayGate's clock is ahead of real time."""
        ...

    def advance(self, delta: timedelta) -> None:
        """Move PayGate's clock on by ``delta``, for every part of the stack at once."""
        ...


class DemoClock:
    """Real time moved on by the demo (the Clock port), for a stack in this process."""

    def __init__(self) -> None:
        self.offset = timedelta(0)

    def now(self) -> datetime:
        return datetime.now(UTC) + self.offset

    def advance(self, delta: timedelta) -> None:
        self.offset += delta


class SharedClockFile:
    """Moves the clock of every PayGate process started with
    ``PAYGATE_CLOCK_OFFSET_FILE=<path>`` (their clock is ``OffsetFileClock(path)``).

    Starts the file at no offset, so processes launched afterwards begin at real
    time even if an earlier run left the file behind."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.offset = timedelta(0)
        OffsetFileClock.write(path, self.offset)

    def advance(self, delta: timedelta) -> None:
        self.offset += delta
        OffsetFileClock.write(self.path, self.offset)
