"""Postgres-only adapters that SQLAlchemy does not cover: LISTEN/NOTIFY."""

from adapters.outbound.postgres.outbox_wakeup import NOTIFY_CHANNEL, PostgresOutboxWakeup

__all__ = ["NOTIFY_CHANNEL", "PostgresOutboxWakeup"]
