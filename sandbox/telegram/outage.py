"""Outages tests switch on so the Bot API fails the way Telegram's does when it is in
trouble: server errors, calls that hang past the client's patience, and 429 storms.

While an outage is on, every Bot API call is answered by it and nothing is done: a
server error or a hang performs no effect (the call never reached the bot platform),
so a client that retries is not the cause of a repeat. A 429 storm refuses every
call whatever the flood limits, as Telegram does when it sheds load.
"""

from __future__ import annotations

import asyncio
from enum import StrEnum

import attrs

from sandbox.telegram.errors import ApiError, too_many_requests

__all__ = ["Outage", "OutageKind"]


class OutageKind(StrEnum):
    SERVER_ERROR = "5xx"
    """``500 Internal Server Error`` (what the Bot API answers when its backend fails)."""
    TIMEOUT = "timeout"
    """The call hangs ``hang`` seconds, then ``504 Gateway Timeout``."""
    FLOOD = "429"
    """``429 Too Many Requests`` with ``retry_after``."""


@attrs.define
class Outage:
    kind: OutageKind
    hang: float = 12.0
    """Seconds a call hangs in a timeout outage: longer than the client's read timeout."""
    retry_after: int = 1
    met: int = 0
    """Calls that met this outage (a hung call counts when it arrives: its caller may
    have given up long before it is answered)."""

    async def refusal(self) -> ApiError:
        """The error a call meets (after its hang, for a timeout)."""
        self.met += 1
        match self.kind:
            case OutageKind.SERVER_ERROR:
                return ApiError(500, "Internal Server Error")
            case OutageKind.TIMEOUT:
                await asyncio.sleep(self.hang)
                return ApiError(504, "Gateway Timeout")
            case OutageKind.FLOOD:
                return too_many_requests(self.retry_after)
