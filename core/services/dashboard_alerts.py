"""The dashboard's Alerts section, as a use case: the recent alerts of the viewer's
channels (an operator sees every alert, those about no channel included)."""

from __future__ import annotations

from collections.abc import Sequence

import attrs

from core.ports.alert_log import AlertLog, RecordedAlert
from core.services.dashboard import OwnerDashboard, Viewer

SHOWN = 200


@attrs.define(eq=False)
class DashboardAlerts:
    _owners: OwnerDashboard
    _log: AlertLog

    async def recent(self, viewer: Viewer) -> Sequence[RecordedAlert]:
        if viewer.operator:
            return await self._log.recent(None, SHOWN)
        channels = [c.id for c in await self._owners.channels(viewer)]
        if not channels:
            return []
        return await self._log.recent(channels, SHOWN)


__all__ = ["SHOWN", "DashboardAlerts"]
