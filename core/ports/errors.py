"""Errors shared by every port. Adapters translate driver errors into these
(``raise Unavailable(...) from exc``) so the core never sees a driver exception."""

from __future__ import annotations


class PortError(Exception):
    """Something outside the core failed or refused."""


class Unavailable(PortError):
    """The dependency cannot be reached or timed out; the caller may retry later.

    ``retry_after`` (seconds) is set when the dependency said how long to wait."""

    def __init__(self, message: str, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class NotFound(PortError):
    """The thing asked for does not exist."""


class Conflict(PortError):
    """A uniqueness rule refused the write (someone else got there first)."""
