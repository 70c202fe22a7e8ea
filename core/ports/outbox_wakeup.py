"""Waking the outbox dispatcher when work is committed, instead of it polling.

A use case that queues an effect commits its unit of work, and a dispatcher (in this
process or another) should claim the new rows at once: a subscriber who just paid
waits for their link, not for the next poll. Polling stays, as the safety net: a
wake-up can be lost (a crash between commit and notification, a dropped connection)
and that costs one polling interval, never a message, because the rows are in the
database whatever happens to the wake-up.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Protocol

__all__ = ["OutboxWakeup"]


class OutboxWakeup(Protocol):
    async def notify(self) -> None:
        """Outbox work was committed: wake the dispatchers this adapter reaches.

        Returns at once (telling other processes happens in the background) and never
        raises: the commit it follows has happened whatever becomes of the wake-up."""
        ...

    async def wait(self, at_most: timedelta) -> bool:
        """Until a wake-up arrives (True) or ``at_most`` has passed (False).

        A wake-up that arrived since the previous ``wait`` returned counts, so none
        falls between two waits; several wake-ups before one ``wait`` make one."""
        ...
