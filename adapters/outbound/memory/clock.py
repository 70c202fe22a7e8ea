"""A clock that only moves when a test (or the demo's script) moves it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

DEFAULT_START = datetime(2025, 1, 1, tzinfo=UTC)


def require_utc(moment: datetime, what: str = "a datetime") -> datetime:
    """The same instant with UTC as its zone; naive datetimes are refused because a
    database column of ``timestamptz`` would refuse (or misread) them too."""
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(f"{what} must be timezone-aware (UTC), got naive {moment!r}")
    return moment.astimezone(UTC)


class FrozenClock:
    """Implements the Clock port. Time stands still until ``set`` or ``advance``."""

    def __init__(self, start: datetime = DEFAULT_START) -> None:
        self._now = require_utc(start, "the clock's start")

    def now(self) -> datetime:
        return self._now

    def set(self, moment: datetime) -> None:
        self._now = require_utc(moment, "the clock's time")

    def advance(self, delta: timedelta) -> datetime:
        """Move forward by ``delta`` and return the new time. Going back is refused:
        real clocks used for leases and expiries are monotonic enough; use ``set``
        to stage a deliberate jump."""
        if delta < timedelta(0):
            raise ValueError("advance() only moves forward; use set() for a jump back")
        self._now = self._now + delta
        return self._now
