"""SQLite-only adapters that SQLAlchemy does not cover: watching a file for commits."""

from adapters.outbound.sqlite.outbox_wakeup import SqliteOutboxWakeup

__all__ = ["SqliteOutboxWakeup"]
