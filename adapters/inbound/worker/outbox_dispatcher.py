"""The outbox dispatcher: the worker's driver of :class:`~core.services.settle_outbox.SettleOutbox`.

The worker serves :meth:`OutboxDispatcher.run`, which keeps going rather than working
in rounds, woken when work is committed; how it keeps the work moving (claims under a
lease, slots, turns per chat, outcomes stored in batches) is
:mod:`adapters.inbound.worker.dispatch_run`. What happens to each message (performed,
retried, dead-lettered, dropped) is the core's rule.
"""

from __future__ import annotations

import asyncio
from datetime import timedelta

from adapters.inbound.worker.chat_lanes import ChatLanes
from adapters.inbound.worker.dispatch_run import DispatchRun, DispatchSettings
from adapters.inbound.worker.run_outcomes import DispatchReport, SettleObserver
from core.ports.clock import Clock
from core.ports.outbox_wakeup import OutboxWakeup
from core.services.settle_outbox import SettleOutbox

__all__ = ["DispatchReport", "DispatchSettings", "OutboxDispatcher"]


class OutboxDispatcher:
    def __init__(
        self,
        settle: SettleOutbox,
        clock: Clock,
        settings: DispatchSettings | None = None,
        observe: SettleObserver | None = None,
    ) -> None:
        """``observe`` is told of every message tried (metrics: grants, removals,
        reminders, dead letters)."""
        self._settle = settle
        self._clock = clock
        self._observe = observe
        self._settings = settings or DispatchSettings()
        self._lanes = self._settings.lanes()
        """Turns per chat, kept across the runs this dispatcher serves."""

    async def run_once(self) -> DispatchReport:
        """Claim one batch and settle every message of it, one message per chat: the
        others to a chat already written to are put back, due at their turns.

        A run of its own (an external trigger, a test): its turns are counted afresh,
        and the Telegram client's pacing keeps the limit between runs. Raises
        Unavailable when the claim cannot be made."""
        return await self._run(self._settings.lanes(), hold=False).once()

    async def run(
        self, wakeup: OutboxWakeup, stopping: asyncio.Event, poll_every: timedelta
    ) -> DispatchReport:
        """Dispatch until ``stopping`` is set, woken by ``wakeup`` when work is
        committed and polling every ``poll_every``; then finish what is in flight,
        put back what waits for its turn, store every outcome and return."""
        return await self._run(self._lanes, hold=True).serve(wakeup, stopping, poll_every)

    def _run(self, lanes: ChatLanes, hold: bool) -> DispatchRun:
        return DispatchRun(
            self._settle, self._clock, self._settings, lanes, hold=hold, observe=self._observe
        )
