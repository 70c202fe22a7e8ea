"""The alerts' operation: the recent alerts of your channels (an operator's: every
alert, those about no channel included), newest first, as the dashboard's Alerts
section shows them (:mod:`core.services.dashboard_alerts`)."""

from __future__ import annotations

import attrs

from adapters.inbound.http.api.operations import ApiCall, Operation
from adapters.inbound.http.api.schema import JsonSchema
from core.ports.alerts import Severity
from core.ports.api_tokens import ApiScope
from core.services.dashboard_alerts import SHOWN, DashboardAlerts

__all__ = ["AlertOperations"]

_ALERT: JsonSchema = {
    "type": "object",
    "required": ["at", "severity", "title", "key", "channel_id", "details"],
    "properties": {
        "at": {"type": "string", "format": "date-time"},
        "severity": {"type": "string", "enum": [s.value for s in Severity]},
        "title": {"type": "string"},
        "key": {"type": "string", "description": "Alerts with one key are one matter."},
        "channel_id": {"type": ["string", "null"]},
        "details": {"type": "object", "additionalProperties": {"type": "string"}},
    },
}
_ALERTS: JsonSchema = {
    "type": "object",
    "required": ["alerts"],
    "properties": {
        "alerts": {
            "type": "array",
            "items": _ALERT,
            "description": f"Newest first, at most {SHOWN}.",
        }
    },
}


@attrs.define(eq=False)
class AlertOperations:
    _alerts: DashboardAlerts

    def operations(self) -> list[Operation]:
        return [
            Operation(
                "GET",
                "/alerts",
                "listAlerts",
                "The recent alerts of your channels",
                ApiScope.READ,
                self.alerts,
                _ALERTS,
            )
        ]

    async def alerts(self, call: ApiCall) -> object:
        recent = await self._alerts.recent(call.viewer)
        return {
            "alerts": [
                {
                    "at": alert.at.isoformat(),
                    "severity": alert.severity.value,
                    "title": alert.title,
                    "key": alert.key,
                    "channel_id": alert.channel_id,
                    "details": dict(alert.details),
                }
                for alert in recent
            ]
        }
