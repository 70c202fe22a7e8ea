"""SQLAlchemy 2 (async) adapters of the persistence ports: SQLite via aiosqlite (the
embedded default) and Postgres via asyncpg, from the same code; Alembic migrations
ship in ``migrations/``."""

from adapters.outbound.sqla.engine import DatabaseTimeouts, create_engine
from adapters.outbound.sqla.migrate import downgrade, upgrade
from adapters.outbound.sqla.revision import SchemaMismatch, check_schema_revision
from adapters.outbound.sqla.tables import metadata
from adapters.outbound.sqla.uow import SqlUnitOfWork, SqlUnitOfWorkFactory
from adapters.outbound.sqla.url import InvalidDatabaseUrl, database_url, safe_url

__all__ = [
    "DatabaseTimeouts",
    "InvalidDatabaseUrl",
    "SchemaMismatch",
    "SqlUnitOfWork",
    "SqlUnitOfWorkFactory",
    "check_schema_revision",
    "create_engine",
    "database_url",
    "downgrade",
    "metadata",
    "safe_url",
    "upgrade",
]
