"""Faults tests inject so the provider's API fails or stalls on cue."""

from __future__ import annotations

import asyncio

import attrs
from aiohttp import web

from sandbox.nowpayments.errors import provider_error

__all__ = ["Fault", "FaultQueue"]


@attrs.frozen
class Fault:
    """The next ``times`` API calls wait ``delay`` seconds, then answer ``status``
    (or normally, when ``status`` is None)."""

    status: int | None = 503
    times: int = 1
    delay: float = 0.0
    retry_after: str | None = None
    message: str = "Service temporarily unavailable"


class FaultQueue:
    """Injected faults, served to API calls in the order they were injected."""

    def __init__(self) -> None:
        self._pending: list[Fault] = []

    def add(self, fault: Fault) -> None:
        self._pending.append(fault)

    def clear(self) -> None:
        self._pending.clear()

    async def next_answer(self) -> web.Response | None:
        """Spend one call of the first pending fault: wait its delay, then return its
        error answer, or None when there is no fault or it lets the call through."""
        if not self._pending:
            return None
        fault = self._pending[0]
        if fault.times <= 1:
            self._pending.pop(0)
        else:
            self._pending[0] = attrs.evolve(fault, times=fault.times - 1)
        if fault.delay:
            await asyncio.sleep(fault.delay)
        if fault.status is None:
            return None
        headers = {"Retry-After": fault.retry_after} if fault.retry_after else None
        return provider_error(fault.status, "EMULATED_FAULT", fault.message, headers)
