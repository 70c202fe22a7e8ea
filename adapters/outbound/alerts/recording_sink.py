"""The alert channel that remembers: every alert it is given goes into the AlertLog,
with the channel it concerns (its ``channel`` detail) when it names one, for the
dashboard's Alerts section."""

from __future__ import annotations

from adapters.outbound.alerts.channel import BestEffortChannel
from core.domain.ids import ChannelId, is_valid_id
from core.ports.alert_log import AlertLog, RecordedAlert
from core.ports.alerts import Alert
from core.ports.clock import Clock


class RecordingAlertSink(BestEffortChannel):
    """An AlertChannel (and AlertSink) over an AlertLog."""

    def __init__(self, log: AlertLog, clock: Clock, *, name: str = "dashboard") -> None:
        self._log = log
        self._clock = clock
        self._name = name

    @property
    def name(self) -> str:
        return self._name

    async def deliver(self, alert: Alert) -> None:
        channel = alert.details.get("channel")
        await self._log.record(
            RecordedAlert(
                at=self._clock.now(),
                severity=alert.severity,
                title=alert.title,
                key=alert.key,
                channel_id=ChannelId(channel) if channel and is_valid_id(channel) else None,
                details=alert.details,
            )
        )
