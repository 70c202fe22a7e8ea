"""The recent alerts in process memory (tests, one process)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta

from adapters.outbound.memory.clock import require_utc
from core.domain.ids import ChannelId
from core.ports.alert_log import RecordedAlert

DEFAULT_HISTORY = timedelta(days=30)


class InMemoryAlertLog:
    """Implements AlertLog: alerts older than ``history`` are forgotten on each write."""

    def __init__(self, history: timedelta = DEFAULT_HISTORY) -> None:
        if history <= timedelta(0):
            raise ValueError("the alert history is kept for a positive time")
        self._history = history
        self._alerts: list[RecordedAlert] = []

    async def record(self, alert: RecordedAlert) -> None:
        require_utc(alert.at, "the alert's time")
        cutoff = alert.at - self._history
        self._alerts = [a for a in self._alerts if a.at >= cutoff]
        self._alerts.append(alert)

    async def recent(
        self, channels: Sequence[ChannelId] | None, limit: int
    ) -> Sequence[RecordedAlert]:
        wanted = None if channels is None else set(channels)
        shown = [
            a
            for a in self._alerts
            if wanted is None or (a.channel_id is not None and a.channel_id in wanted)
        ]
        # Newest first; of alerts at one moment, the one recorded last first (as the
        # SQL log's sequence orders them).
        order = {id(a): n for n, a in enumerate(self._alerts)}
        shown.sort(key=lambda a: (a.at, order[id(a)]), reverse=True)
        return shown[: max(limit, 0)]
