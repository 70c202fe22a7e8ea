"""One dependency's outage as operators hear of it: a "lost" alert once when it
starts and a "back" alert once when it ends, sent in the background.

Shared by the Telegram client (Telegram unreachable), the pacing limiter (the shared
pacing buckets unreachable) and the breakers' :class:`~adapters.outbound.breaker.
OutageAlerts` (NowPayments). The call that noticed the outage (a payment, a grant,
a start-up) never waits for an alert channel, which may itself send through the
very dependency that is down (the admin chat goes through Telegram).

The sink may be attached after construction, for the same reason: an outage found
before then is reported on attachment if it still lasts, and forgotten if it ended
before anyone could be told.
"""

from __future__ import annotations

import asyncio
import logging

from core.ports.alerts import Alert, AlertSink

__all__ = ["OutageNotice"]

logger = logging.getLogger(__name__)


class OutageNotice:
    def __init__(self, what: str, alerts: AlertSink | None = None) -> None:
        self._what = what
        """For the log line when an alert cannot be sent ("Telegram reachability")."""
        self._alerts = alerts
        self._down = False
        self._unsent: Alert | None = None
        self._tasks: set[asyncio.Task[None]] = set()

    @property
    def down(self) -> bool:
        """An outage started and has not ended."""
        return self._down

    def attach(self, alerts: AlertSink) -> None:
        """Where the alerts go from now on; a "lost" alert kept meanwhile goes now if the
        outage lasts."""
        self._alerts = alerts
        pending, self._unsent = self._unsent, None
        if pending is not None and self._down:
            self._send(pending)

    def lost(self, alert: Alert) -> bool:
        """The dependency is lost: ``alert`` goes out unless this outage was told
        already. True when this starts an outage."""
        if self._down:
            return False
        self._down = True
        if self._alerts is None:
            self._unsent = alert
        else:
            self._send(alert)
        return True

    def back(self, alert: Alert) -> bool:
        """The dependency answers again: ``alert`` goes out if an outage was going on.
        True when this ends one."""
        if not self._down:
            return False
        self._down = False
        if self._alerts is None:
            self._unsent = None  # lost and back before anyone could be told
        else:
            self._send(alert)
        return True

    async def close(self) -> None:
        """Give up the alerts still on their way."""
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)

    def _send(self, alert: Alert) -> None:
        sink = self._alerts
        assert sink is not None

        async def send() -> None:
            try:
                await sink.send(alert)
            except Exception:
                logger.exception("the %s alert could not be sent", self._what)

        task = asyncio.get_running_loop().create_task(send())
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
