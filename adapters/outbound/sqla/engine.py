"""The async engine, set up per dialect so both give one-transaction units of work.

SQLite: Python's sqlite3 module would start transactions late (only before a write)
and a transaction that read first then writes can fail with "database is locked"
when another writer got in between. PayGate takes over transaction control and
starts every unit of work with ``BEGIN IMMEDIATE``: the write lock is taken up
front, so units of work run one at a time and every read-then-write (claiming the
outbox, chaining the audit log, compare-and-set of an intent) sees the latest
committed state. WAL lets the file be read while a writer works; waiting writers
queue on the busy timeout instead of failing at once.

Postgres: a small pool (sized by the caller), READ COMMITTED. Every payment
notification checks a connection out, so the pool does no extra round trip around
that: no ping before use (a connection broken by a server restart fails its first
statement, the unit of work answers ``Unavailable`` -- the provider retries a 503 --
and SQLAlchemy then discards every connection older than the failure, so one request
pays, not one per pooled connection) and no reset on return (a unit of work always
ends its transaction before giving the connection back, so the pool's rollback would
be a redundant one). Connections are renewed every 30 minutes, so none outlives an
idle timeout of a proxy in between. ``bench/bench_ipn_path.py`` measures the choice.

Timeouts (:class:`DatabaseTimeouts`, from ``PAYGATE_DB_*_TIMEOUT_SECONDS``): a database
that hangs (a lock held by someone else, a frozen server, a lost network) must not
hang a payment notification past the provider's patience: the unit of work fails
with ``Unavailable`` and the provider resends. On Postgres the server cancels a
statement (or its wait for a lock) after ``statement`` seconds; a quarter of a second
later the driver gives up on its own, for a server too frozen to cancel anything. On
SQLite, ``statement`` bounds the wait for the write lock. ``connect`` bounds opening
a connection and waiting for a pooled one. Migrations run without them.

No statement parameters in errors (``hide_parameters``): a failed statement's error
may be logged, and its parameters are user ids, order ids and message texts.
"""

from __future__ import annotations

from typing import Any

import attrs
from sqlalchemy import event
from sqlalchemy.engine import URL, Connection, make_url
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine
from sqlalchemy.pool import ConnectionPoolEntry

SQLITE_BUSY_TIMEOUT_SECONDS = 30.0
POSTGRES_CONNECT_TIMEOUT_SECONDS = 10.0
POSTGRES_RECYCLE_SECONDS = 1800
CLIENT_TIMEOUT_MARGIN_SECONDS = 0.25
"""How much longer than the server's statement timeout the driver waits for an
answer: the server's cancellation normally comes first, with a clear error. A server
that answers nothing at all costs the driver that wait twice (it then tries, as long
again, to have the statement cancelled): with the defaults, 2.5 s."""


@attrs.frozen
class DatabaseTimeouts:
    statement: float
    """Seconds a statement, or its wait for a lock, may take."""
    connect: float
    """Seconds to open a connection, or to wait for a pooled one."""

    def __attrs_post_init__(self) -> None:
        if not (self.statement > 0 and self.connect > 0):
            raise ValueError("database timeouts are positive")


def create_engine(
    url: URL | str,
    *,
    pool_size: int = 5,
    max_overflow: int = 5,
    pool_timeout: float = 30.0,
    timeouts: DatabaseTimeouts | None = None,
) -> AsyncEngine:
    """An engine for ``url`` (see :func:`adapters.outbound.sqla.url.database_url`);
    ``timeouts`` None: statements may run as long as they take (migrations)."""
    url = make_url(url)
    if timeouts is not None:
        pool_timeout = timeouts.connect
    if url.get_backend_name() == "sqlite":
        if url.database in (None, "", ":memory:"):
            # Every unit of work needs its own connection to the same database; a
            # private in-memory database per connection cannot give that.
            raise ValueError("PayGate needs a SQLite file, not an in-memory database")
        engine = create_async_engine(
            url,
            connect_args={"timeout": busy_timeout(timeouts)},
            pool_size=pool_size,
            max_overflow=max_overflow,
            pool_timeout=pool_timeout,
            hide_parameters=True,
        )
        _take_over_sqlite_transactions(engine)
        return engine
    return create_async_engine(
        url,
        connect_args=_postgres_connect_args(timeouts),
        hide_parameters=True,
        pool_size=pool_size,
        max_overflow=max_overflow,
        pool_timeout=pool_timeout,
        pool_pre_ping=False,
        pool_reset_on_return=None,
        pool_recycle=POSTGRES_RECYCLE_SECONDS,
    )


def busy_timeout(timeouts: DatabaseTimeouts | None) -> float:
    """How long a SQLite unit of work waits for the write lock."""
    return SQLITE_BUSY_TIMEOUT_SECONDS if timeouts is None else timeouts.statement


def _postgres_connect_args(timeouts: DatabaseTimeouts | None) -> dict[str, Any]:
    if timeouts is None:
        return {"timeout": POSTGRES_CONNECT_TIMEOUT_SECONDS}
    milliseconds = str(max(1, round(timeouts.statement * 1000)))
    return {
        "timeout": timeouts.connect,
        "command_timeout": timeouts.statement + CLIENT_TIMEOUT_MARGIN_SECONDS,
        # Sent with the connection's start-up packet: no round trip of its own.
        "server_settings": {"statement_timeout": milliseconds, "lock_timeout": milliseconds},
    }


def _take_over_sqlite_transactions(engine: AsyncEngine) -> None:
    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: ConnectionPoolEntry) -> None:
        # None: sqlite3 emits no BEGIN of its own; ours comes from the hook below.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        try:
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA foreign_keys=ON")
        finally:
            cursor.close()

    @event.listens_for(engine.sync_engine, "begin")
    def _on_begin(connection: Connection) -> None:
        connection.exec_driver_sql("BEGIN IMMEDIATE")
