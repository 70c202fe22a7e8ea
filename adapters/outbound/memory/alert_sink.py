"""An alert sink that keeps every alert, for tests and the demo's transcript."""

from __future__ import annotations

from core.ports.alerts import Alert


class InMemoryAlertSink:
    """Implements AlertSink. Keeps every alert in order, same-key repeats included, so
    a test sees exactly what was raised and how often."""

    def __init__(self) -> None:
        self.alerts: list[Alert] = []

    async def send(self, alert: Alert) -> None:
        self.alerts.append(alert)
