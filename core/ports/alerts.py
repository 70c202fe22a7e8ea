"""Alerts for operators and owners (log, Telegram admin chat, email, webhook)."""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum
from typing import Protocol

import attrs


class Severity(StrEnum):
    INFO = "info"
    WARNING = "warning"
    CRITICAL = "critical"


@attrs.frozen
class Alert:
    severity: Severity
    title: str
    key: str
    """Alerts with the same key within a window are one alert (deduplication)."""
    details: Mapping[str, str] = attrs.field(factory=dict)


class AlertSink(Protocol):
    async def send(self, alert: Alert) -> None:
        """Best effort: never raises for a delivery failure."""
        ...
