"""Time and identity come in through ports, so the core is deterministic under test."""

from __future__ import annotations

from datetime import datetime
from typing import Protocol


class Clock(Protocol):
    def now(self) -> datetime:
        """The current time, timezone-aware, in UTC."""
        ...


class IdGenerator(Protocol):
    def new_id(self) -> str:
        """A fresh unguessable id: 1-32 ASCII letters and digits (e.g. 32 hex digits)."""
        ...
