"""Alerts as structured log lines: the channel that works when nothing else does."""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping

from adapters.outbound.alerts.channel import BestEffortChannel
from adapters.outbound.alerts.rendering import one_line, truncate
from core.ports.alerts import Alert, Severity

__all__ = ["LOG_LEVELS", "LogAlertSink"]

LOG_LEVELS: Mapping[Severity, int] = {
    Severity.INFO: logging.INFO,
    Severity.WARNING: logging.WARNING,
    Severity.CRITICAL: logging.CRITICAL,
}

DEFAULT_VALUE_LIMIT = 300
"""Characters kept of each detail value: enough for an id, an error summary or a URL
path; a pasted HTML error page or a traceback is cut."""


class LogAlertSink(BestEffortChannel):
    """Implements AlertSink (and AlertChannel). One line per alert at the level of its
    severity, readable as text, with the same facts as ``extra`` fields
    (``alert_severity``, ``alert_title``, ``alert_key``, ``alert_details`` as a JSON
    object in a string) for the JSON log formatter to index.

    Detail values reach the port already free of secrets; here they are only cut to
    ``value_limit`` characters and kept on one line."""

    def __init__(
        self,
        logger: logging.Logger | None = None,
        *,
        name: str = "log",
        value_limit: int = DEFAULT_VALUE_LIMIT,
    ) -> None:
        if value_limit < 1:
            raise ValueError("value_limit is at least one character")
        self._logger = logger if logger is not None else logging.getLogger("paygate.alerts")
        self._name = name
        self._value_limit = value_limit

    @property
    def name(self) -> str:
        return self._name

    async def deliver(self, alert: Alert) -> None:
        details = {
            name: truncate(value, self._value_limit) for name, value in alert.details.items()
        }
        rendered = "".join(f" {name}={one_line(value)}" for name, value in details.items())
        self._logger.log(
            LOG_LEVELS[alert.severity],
            "alert %s [%s] %s%s",
            alert.key,
            alert.severity.value,
            one_line(alert.title),
            rendered,
            extra={
                "alert_severity": alert.severity.value,
                "alert_title": alert.title,
                "alert_key": alert.key,
                "alert_details": json.dumps(details, ensure_ascii=False, sort_keys=True),
            },
        )
