"""The recent alerts, kept for the dashboard's Alerts section. Alerts are sent to
their sinks (:mod:`core.ports.alerts`); this is the one that remembers them, with the
channel each concerns when there is one, for a bounded time."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Protocol

import attrs

from core.domain.ids import ChannelId
from core.ports.alerts import Severity
from core.ports.errors import Unavailable

__all__ = ["AlertLog", "RecordedAlert", "Unavailable"]


def _copy(details: Mapping[str, str]) -> dict[str, str]:
    return dict(details)


@attrs.frozen
class RecordedAlert:
    at: datetime
    severity: Severity
    title: str
    key: str
    channel_id: ChannelId | None
    details: Mapping[str, str] = attrs.field(factory=dict, converter=_copy)


class AlertLog(Protocol):
    async def record(self, alert: RecordedAlert) -> None:
        """Keep ``alert``; alerts older than the log's history (counted back from
        ``alert.at``) are forgotten in the same write. Raises Unavailable."""
        ...

    async def recent(
        self, channels: Sequence[ChannelId] | None, limit: int
    ) -> Sequence[RecordedAlert]:
        """The newest alerts first, at most ``limit``: those concerning ``channels``
        (None: every alert, with or without a channel)."""
        ...
