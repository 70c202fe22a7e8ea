"""Waking dispatchers in every process on one Postgres database: LISTEN/NOTIFY.

A commit that queued outbox work is followed by ``pg_notify('paygate_outbox', ...)``;
each process that dispatches LISTENs on a connection of its own and wakes its
dispatcher when a notification arrives. Within the process a commit wakes the
dispatcher directly, without the round trip.

The notification is sent after the commit, in the background, from another
connection: the webhook that committed answers without waiting for it. If it is
lost (the process dies between commit and notification, the database connection
drops) the dispatchers find the work on their next poll. Notifications are merged
while one is on its way, so a burst of commits costs a handful of them, and a
process ignores its own (it has woken itself already).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
from datetime import timedelta
from typing import Any

from sqlalchemy.engine import make_url

__all__ = ["LISTENER_NAME", "NOTIFY_CHANNEL", "PostgresOutboxWakeup"]

logger = logging.getLogger(__name__)

NOTIFY_CHANNEL = "paygate_outbox"
LISTENER_NAME = "paygate outbox listener"


def _asyncpg() -> Any:
    """The Postgres driver, imported when a Postgres wake-up first connects: it comes
    with the optional ``postgres`` extra, and a SQLite deployment never needs it."""
    import asyncpg  # type: ignore[import-untyped]

    return asyncpg


def _libpq_dsn(database_url: str) -> str:
    """asyncpg speaks libpq URLs; PayGate's are SQLAlchemy's (``postgresql+asyncpg``)."""
    url = make_url(database_url)
    if url.get_backend_name() != "postgresql":
        raise ValueError("not a Postgres database URL")
    return url.set(drivername="postgresql").render_as_string(hide_password=False)


def _what(exc: BaseException) -> str:
    # The error's kind and message: never the DSN, which may carry a password.
    return f"{type(exc).__name__}: {exc}"[:200]


class PostgresOutboxWakeup:
    """Implements OutboxWakeup across processes. Listens from the first ``wait`` on
    (a process that never dispatches never listens); ``close`` ends it all."""

    def __init__(
        self,
        database_url: str,
        *,
        channel: str = NOTIFY_CHANNEL,
        reconnect_after: timedelta = timedelta(seconds=1),
        keepalive: timedelta = timedelta(seconds=30),
        connect_timeout: float = 10.0,
    ) -> None:
        self._dsn = _libpq_dsn(database_url)
        self._channel = channel
        self._reconnect_after = reconnect_after.total_seconds()
        self._keepalive = keepalive.total_seconds()
        self._connect_timeout = connect_timeout
        self._token = secrets.token_hex(8)
        """Sent with our notifications, so that ours are told from other processes'."""
        self._event = asyncio.Event()
        self._listener: asyncio.Task[None] | None = None
        self._sender: asyncio.Task[None] | None = None
        self._send_again = False
        self._notifier: Any = None
        self.listening = asyncio.Event()
        """Set while a LISTEN connection is up (for tests and readiness)."""

    # ------------------------------------------------------------ notify
    async def notify(self) -> None:
        self._event.set()
        self._send_again = True
        if self._sender is None or self._sender.done():
            self._sender = asyncio.create_task(self._send(), name="outbox-notify")

    async def _send(self) -> None:
        while self._send_again:
            self._send_again = False
            try:
                if self._notifier is None or self._notifier.is_closed():
                    self._notifier = await _asyncpg().connect(
                        self._dsn, timeout=self._connect_timeout
                    )
                await self._notifier.execute(
                    "SELECT pg_notify($1, $2)",
                    self._channel,
                    self._token,
                    timeout=self._connect_timeout,
                )
            except Exception as exc:  # a lost wake-up costs a poll, never a message
                logger.warning(
                    "outbox work committed, other processes not told (%s); they poll",
                    _what(exc),
                )
                await self._close_notifier()
                return

    async def _close_notifier(self) -> None:
        notifier, self._notifier = self._notifier, None
        if notifier is not None:
            with contextlib.suppress(Exception):
                await notifier.close(timeout=1.0)

    # ------------------------------------------------------------ wait
    async def wait(self, at_most: timedelta) -> bool:
        if self._listener is None:
            self._listener = asyncio.create_task(self._listen(), name="outbox-listen")
        seconds = at_most.total_seconds()
        if not self._event.is_set() and seconds > 0:
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(seconds):
                    await self._event.wait()
        woken = self._event.is_set()
        self._event.clear()
        return woken

    def _heard(self, _conn: object, _pid: int, _channel: str, payload: str) -> None:
        if payload != self._token:
            self._event.set()

    async def _listen(self) -> None:
        """Keep one LISTEN connection up, reconnecting after a pause when it drops."""
        while True:
            try:
                await self._listen_once()
            except Exception as exc:
                logger.warning(
                    "not listening for outbox work (%s); retrying in %.0f s, polling meanwhile",
                    _what(exc),
                    self._reconnect_after,
                )
            finally:
                self.listening.clear()
            await asyncio.sleep(self._reconnect_after)

    async def _listen_once(self) -> None:
        conn = await _asyncpg().connect(
            self._dsn,
            timeout=self._connect_timeout,
            # Named, so that an operator (or a test) can tell it in pg_stat_activity.
            server_settings={"application_name": LISTENER_NAME},
        )
        lost = asyncio.get_running_loop().create_future()

        def on_termination(_: object) -> None:
            if not lost.done():
                lost.set_result(None)

        try:
            conn.add_termination_listener(on_termination)
            await conn.add_listener(self._channel, self._heard)
            self.listening.set()
            # Work may have been committed while nobody listened: look now.
            self._event.set()
            while not lost.done():
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(asyncio.shield(lost), self._keepalive)
                if not lost.done():
                    # A connection that silently died would never say so otherwise.
                    await conn.execute("SELECT 1", timeout=self._connect_timeout)
            raise ConnectionError("the LISTEN connection was closed")
        finally:
            with contextlib.suppress(Exception):
                await conn.close(timeout=1.0)

    # ------------------------------------------------------------ lifecycle
    async def close(self) -> None:
        for task in (self._listener, self._sender):
            if task is not None and not task.done():
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
        self._listener = self._sender = None
        await self._close_notifier()
