"""Wall-clock time for production processes."""

from __future__ import annotations

from datetime import UTC, datetime


class SystemClock:
    """Implements the Clock port: the operating system's time, aware, in UTC."""

    def now(self) -> datetime:
        return datetime.now(UTC)
