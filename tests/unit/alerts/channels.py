"""A scriptable alert channel for the AlertService's tests."""

from __future__ import annotations

import asyncio

from adapters.outbound.alerts import AlertDeliveryFailed
from core.ports.alerts import Alert


class ScriptedChannel:
    """Implements AlertChannel. Keeps what it delivered; a test makes it fail
    (``failing``), raise something unexpected (``broken``) or never answer (``hang``)."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.delivered: list[Alert] = []
        self.attempts = 0
        self.failing = False
        self.broken = False
        self.hang = False

    async def deliver(self, alert: Alert) -> None:
        self.attempts += 1
        if self.hang:
            await asyncio.Event().wait()
        if self.broken:
            raise RuntimeError("a bug in the channel")
        if self.failing:
            raise AlertDeliveryFailed(f"{self.name}: the receiver answered HTTP 503")
        self.delivered.append(alert)

    @property
    def titles(self) -> list[str]:
        return [alert.title for alert in self.delivered]
